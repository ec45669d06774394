"""Test helpers that ship with the package.

`pulumi_codemagic.testing.echo` contains `Echo`, a dynamic resource without any service behind it,
for checking that a Pulumi engine can run this package's dynamic providers.
"""
