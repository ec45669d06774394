"""Read the ``artefact_urls`` output of a build_app stack named by the config ``source``."""

import pulumi

config = pulumi.Config()
source = pulumi.StackReference(config.require("source"))
artefact_urls = source.require_output("artefact_urls")

pulumi.export("artefact_urls", artefact_urls)
pulumi.export("apk_url", artefact_urls.apply(lambda urls: urls["app-release.apk"]))
