// Command pulumi-language-python is a small Python language host for the
// Pulumi engine. scripts/install-pulumi.sh builds it because the Go module
// proxy that this project's machines reach does not serve Pulumi's own host
// (module github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3).
//
// The host only starts programs. It resolves the Python interpreter with the
// toolchain package of the Pulumi Go SDK (the `virtualenv` runtime option of
// Pulumi.yaml, else PULUMI_PYTHON_CMD, else python3), and runs Pulumi's own
// `pulumi-language-python-exec` script, which must sit next to this
// executable. That script configures the Python SDK and runs the program.
//
// NOTE: it reports no required plugins, so a program that needs a provider
// plugin other than the bundled dynamic provider (`pulumi-python`) needs that
// plugin installed beforehand. Code generation, `pulumi new` templates and
// Python-based provider plugins are not implemented.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

// execScriptName is the Pulumi script that runs a Python program; it is
// copied from the pulumi/sdk/v3 module next to this executable.
const execScriptName = "pulumi-language-python-exec"

// userActionableExitCode is the exit code with which the exec script reports
// that it already showed the user an error, so the engine should not add one.
const userActionableExitCode = 32

// engineHealthInterval is how often the host checks that the engine that
// started it is still alive, and exits when it is not.
const engineHealthInterval = 5 * time.Minute

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	// The engine passes -logtostderr, -v and -tracing before the engine
	// address when it runs with logging or tracing turned on. A dependency
	// (glog) may register -logtostderr and -v already; InitLogging reads them.
	if flag.Lookup("logtostderr") == nil {
		flag.Bool("logtostderr", false, "log to stderr instead of to files")
	}
	if flag.Lookup("v") == nil {
		flag.Int("v", 0, "log verbosity level")
	}
	logFlow := flag.Bool("logflow", false, "pass the log settings on to child processes")
	tracing := flag.String("tracing", "", "Zipkin-compatible tracing endpoint")
	flag.Parse()
	logging.InitLogging(false, 0, *logFlow)

	if flag.NArg() < 1 {
		return errors.New("missing the engine RPC address argument")
	}
	engineAddress := flag.Arg(0)

	execScript, err := findExecScript()
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rpcutil.Healthcheck(ctx, engineAddress, engineHealthInterval, stop); err != nil {
		return fmt.Errorf("could not connect to the engine at %s: %w", engineAddress, err)
	}

	host := &languageHost{
		engineAddress: engineAddress,
		execScript:    execScript,
		tracing:       *tracing,
	}
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancel)
	}()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(server *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(server, host)
			return nil
		},
	})
	if err != nil {
		return fmt.Errorf("could not start the language host gRPC server: %w", err)
	}

	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		return fmt.Errorf("language host gRPC server stopped: %w", err)
	}
	return nil
}

// findExecScript returns the path of the exec script next to this executable,
// following symlinks so that a linked host still finds its own folder.
func findExecScript() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("could not find the path of this executable: %w", err)
	}
	self, err = filepath.EvalSymlinks(self)
	if err != nil {
		return "", fmt.Errorf("could not resolve the path of this executable: %w", err)
	}
	script := filepath.Join(filepath.Dir(self), execScriptName)
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("%s is missing next to the language host: %w", execScriptName, err)
	}
	return script, nil
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	engineAddress string
	execScript    string
	tracing       string
}

func (h *languageHost) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(ctx context.Context, _ *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPlugins reports no plugins: see the NOTE in the package comment.
func (h *languageHost) GetRequiredPlugins(
	ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// GetRequiredPackages reports no packages: see the NOTE in the package comment.
func (h *languageHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// InstallDependencies only checks that the configured virtualenv exists: the
// host never installs packages, so the caller prepares the environment.
func (h *languageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return err
	}
	return tc.ValidateVenv(server.Context())
}

func (h *languageHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
	}, nil
}

func (h *languageHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

// Run runs the program to completion through the exec script. A program error
// is returned in the response, not as an RPC error, as the engine expects.
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}

	args := []string{"-u", h.execScript}
	args = append(args, h.execArgs(req)...)
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	configEnv, err := configEnvironment(req)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(cmd.Env, configEnv...)
	cmd.Dir = req.GetPwd()
	// The engine shows what the program writes as messages of this plugin.
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr

	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == userActionableExitCode:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Python program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the Python program: %v", err)}, nil
	}
}

// execArgs builds the exec script's command line; its flags mirror the
// fields of pulumi.runtime.Settings in the Python SDK.
func (h *languageHost) execArgs(req *pulumirpc.RunRequest) []string {
	args := []string{
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engineAddress,
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", req.GetPwd(),
		"--dry_run", strconv.FormatBool(req.GetDryRun()),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
	}
	if org := req.GetOrganization(); org != "" {
		args = append(args, "--organization", org)
	}
	if info := req.GetInfo(); info != nil && info.GetRootDirectory() != "" {
		args = append(args, "--root_directory", info.GetRootDirectory())
	}
	if h.tracing != "" {
		args = append(args, "--tracing", h.tracing)
	}

	program := req.GetProgram() //nolint:staticcheck // set by engines older than ProgramInfo
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		program = filepath.Join(info.GetProgramDirectory(), info.GetEntryPoint())
	}
	args = append(args, program)
	return append(args, req.GetArgs()...)
}

// configEnvironment passes the stack configuration in the variables that the
// Python SDK reads (pulumi.runtime.get_config_env and
// get_config_secret_keys_env).
func configEnvironment(req *pulumirpc.RunRequest) ([]string, error) {
	// A stack without config has a nil map, which must reach Python as {} and not as null.
	configValues := req.GetConfig()
	if configValues == nil {
		configValues = map[string]string{}
	}
	config, err := json.Marshal(configValues)
	if err != nil {
		return nil, fmt.Errorf("could not encode the stack configuration: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("could not encode the secret configuration keys: %w", err)
	}
	return []string{
		"PULUMI_CONFIG=" + string(config),
		"PULUMI_CONFIG_SECRET_KEYS=" + string(secretKeysJSON),
	}, nil
}

// resolveToolchain reads the `runtime.options` of Pulumi.yaml. Only pip-style
// virtualenvs and the ambient interpreter are supported.
func resolveToolchain(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, error) {
	options := toolchain.PythonOptions{Toolchain: toolchain.Pip}
	if info == nil {
		return toolchain.ResolveToolchain(options)
	}
	options.Root = info.GetRootDirectory()
	options.ProgramDir = info.GetProgramDirectory()

	runtimeOptions := info.GetOptions().AsMap()
	if name, ok := runtimeOptions["toolchain"].(string); ok && name != "" && name != "pip" {
		return nil, fmt.Errorf(
			"runtime option toolchain=%q is not supported by this language host; use pip or leave it unset", name)
	}
	// The toolchain package resolves a relative path against options.Root.
	if virtualenv, ok := runtimeOptions["virtualenv"].(string); ok {
		options.Virtualenv = virtualenv
	}
	return toolchain.ResolveToolchain(options)
}
