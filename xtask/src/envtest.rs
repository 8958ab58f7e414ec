//! `cargo xtask envtest`: real Kubernetes control planes for the end-to-end scenarios and
//! kubesim's conformance suite.
//!
//! `install` puts `etcd`, `kube-apiserver` and `kube-controller-manager` of each requested
//! Kubernetes release into `target/envtest/<release>/`, the directory layout controller-runtime's
//! envtest reads through `KUBEBUILDER_ASSETS`. No registry ships those binaries, so they are
//! built with `go build` from the Go module proxy: one small Go module per release
//! (`e2e/envtest/<release>/go.mod` + `go.sum`, committed for the default releases, generated
//! under `target/envtest/modules/` for any other) requires `k8s.io/kubernetes` at the release,
//! pins every `k8s.io/*` staging module to the matching `v0.<minor>.<patch>` (the main module's
//! own `replace` lines point into its source tree and do not apply to a dependency), and builds
//! etcd at the version Kubernetes itself requires. A build is skipped when the binaries are
//! there and were built from the same module file; Go's build cache makes the rest fast.
//!
//! When `KUBEBUILDER_ASSETS` names directories (separated as in `PATH`) holding the three
//! binaries, a requested release whose minor one of them holds is taken from there instead.
//!
//! `run` starts one control plane (through the `godwit-envtest` binary of the e2e crate) and
//! runs a command against it with `KUBECONFIG` and `KUBESIM_CONFORMANCE_KUBECONFIG` set.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::Instant;

use anyhow::{Context as _, bail};

use crate::cargo;

/// The releases `install` builds when none are named: the source and target of the
/// end-to-end run, three minors apart so that built-in groups differ between them.
pub const DEFAULT_RELEASES: [&str; 2] = ["1.33.13", "1.36.3"];

/// The binaries of one release, as envtest names them.
pub const BINARIES: [&str; 3] = ["etcd", "kube-apiserver", "kube-controller-manager"];

/// The Go packages of [`BINARIES`], in the same order. etcd's `main` package is its server
/// module; `go build -o DIR/` names that binary `server`.
const PACKAGES: [(&str, &str); 3] = [
    ("go.etcd.io/etcd/server/v3", "server"),
    ("k8s.io/kubernetes/cmd/kube-apiserver", "kube-apiserver"),
    (
        "k8s.io/kubernetes/cmd/kube-controller-manager",
        "kube-controller-manager",
    ),
];

/// The file in a release directory that records what it was built from.
const STAMP: &str = ".built-from";

const HELP: &str = "\
usage: cargo xtask envtest <command>

commands:
  install [--k8s RELEASES]    build (or find) etcd, kube-apiserver and kube-controller-manager
                              for each release (comma-separated, e.g. 1.36.3,1.33.13; default
                              1.33.13,1.36.3) into target/envtest/<release>/; needs Go unless
                              KUBEBUILDER_ASSETS already holds a release of that minor
  run [--k8s RELEASE] [-- COMMAND...]
                              start one control plane (default 1.36.3) and run COMMAND with
                              KUBECONFIG and KUBESIM_CONFORMANCE_KUBECONFIG pointing at it;
                              without COMMAND, print its kubeconfig and wait for Ctrl-C
  module RELEASE              write e2e/envtest/RELEASE/go.mod and go.sum for a new release
";

/// A Kubernetes release, `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release {
    /// Always 1 so far.
    pub major: u32,
    /// The minor version: what decides which API versions are served.
    pub minor: u32,
    /// The patch release.
    pub patch: u32,
}

impl FromStr for Release {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let bare = trimmed.strip_prefix('v').unwrap_or(trimmed);
        let parts: Vec<&str> = bare.split('.').collect();
        let number = |part: &str| part.parse::<u32>().ok();
        match parts.as_slice() {
            [major, minor, patch] => match (number(major), number(minor), number(patch)) {
                (Some(major), Some(minor), Some(patch)) => Ok(Release {
                    major,
                    minor,
                    patch,
                }),
                _ => Err(format!(
                    "{text:?} is not a Kubernetes release; write MAJOR.MINOR.PATCH, e.g. 1.36.3"
                )),
            },
            _ => Err(format!(
                "{text:?} is not a Kubernetes release; write MAJOR.MINOR.PATCH, e.g. 1.36.3"
            )),
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Release {
    /// The version of the `k8s.io/*` staging modules cut with this release.
    pub fn staging_version(&self) -> String {
        format!("v0.{}.{}", self.minor, self.patch)
    }
}

/// Parses a comma-separated list of releases, sorted oldest first, duplicates dropped.
pub fn parse_releases(text: &str) -> Result<Vec<Release>, String> {
    let mut releases = text
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(str::parse)
        .collect::<Result<Vec<Release>, String>>()?;
    if releases.is_empty() {
        return Err("--k8s names no release; write e.g. --k8s 1.33.13,1.36.3".to_owned());
    }
    releases.sort();
    releases.dedup();
    Ok(releases)
}

/// The default releases, oldest first.
pub fn default_releases() -> Vec<Release> {
    DEFAULT_RELEASES
        .iter()
        .filter_map(|text| text.parse().ok())
        .collect()
}

/// The binaries of one release, ready to run.
#[derive(Debug, Clone)]
pub struct Assets {
    /// The release asked for.
    pub release: Release,
    /// The version `kube-apiserver --version` reports (differs from `release` only in the
    /// patch when taken from `KUBEBUILDER_ASSETS`).
    pub version: Release,
    /// The directory holding [`BINARIES`].
    pub dir: PathBuf,
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        Some("install") => {
            let releases = releases_flag(&args[1..])?.unwrap_or_else(default_releases);
            for assets in install(&releases)? {
                println!(
                    "envtest {}: Kubernetes {} in {}",
                    assets.release,
                    assets.version,
                    assets.dir.display()
                );
            }
            Ok(())
        }
        Some("run") => run_command(&args[1..]),
        Some("module") => {
            let [release] = &args[1..] else {
                bail!("envtest module takes one release, e.g. 1.37.2\n\n{HELP}");
            };
            let release: Release = release.parse().map_err(anyhow::Error::msg)?;
            let dir = cargo::repo_root()
                .join("e2e")
                .join("envtest")
                .join(release.to_string());
            write_module(&release, &dir)?;
            println!("wrote {}", dir.display());
            Ok(())
        }
        Some("-h" | "--help" | "help") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => bail!("unknown envtest command {other:?}\n\n{HELP}"),
    }
}

/// The arguments without `--k8s` (`--k8s X` or `--k8s=X`), and the releases it named.
pub fn take_k8s_flag(args: &[String]) -> anyhow::Result<(Vec<String>, Option<Vec<Release>>)> {
    let mut rest = Vec::new();
    let mut releases = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let value = if arg == "--k8s" {
            Some(
                iter.next()
                    .context("--k8s needs a value, e.g. --k8s 1.33.13,1.36.3")?
                    .clone(),
            )
        } else {
            arg.strip_prefix("--k8s=").map(str::to_owned)
        };
        match value {
            Some(value) => {
                releases = Some(parse_releases(&value).map_err(anyhow::Error::msg)?);
            }
            None => rest.push(arg.clone()),
        }
    }
    Ok((rest, releases))
}

/// The releases `--k8s` names among `args`, which may hold nothing else.
pub fn releases_flag(args: &[String]) -> anyhow::Result<Option<Vec<Release>>> {
    let (rest, releases) = take_k8s_flag(args)?;
    if let Some(other) = rest.first() {
        bail!("unknown argument {other}\n\n{HELP}");
    }
    Ok(releases)
}

/// Makes sure every release's binaries are at hand; builds what is missing.
pub fn install(releases: &[Release]) -> anyhow::Result<Vec<Assets>> {
    let found = kubebuilder_assets()?;
    let mut all = Vec::new();
    for release in releases {
        if let Some((dir, version)) = found
            .iter()
            .find(|(_, version)| version.major == release.major && version.minor == release.minor)
        {
            println!(
                "envtest {release}: using Kubernetes {version} from KUBEBUILDER_ASSETS ({})",
                dir.display()
            );
            all.push(Assets {
                release: *release,
                version: *version,
                dir: dir.clone(),
            });
            continue;
        }
        all.push(build(release)?);
    }
    Ok(all)
}

/// The directories of `KUBEBUILDER_ASSETS` that hold all of [`BINARIES`], with the version
/// their kube-apiserver reports.
fn kubebuilder_assets() -> anyhow::Result<Vec<(PathBuf, Release)>> {
    let Some(value) = std::env::var_os("KUBEBUILDER_ASSETS") else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for dir in std::env::split_paths(&value) {
        if dir.as_os_str().is_empty() {
            continue;
        }
        let missing: Vec<&str> = BINARIES
            .iter()
            .copied()
            .filter(|binary| !dir.join(binary).is_file())
            .collect();
        if !missing.is_empty() {
            bail!(
                "KUBEBUILDER_ASSETS names {}, which lacks {}; point it at a directory holding \
                 {} or unset it to build them",
                dir.display(),
                missing.join(", "),
                BINARIES.join(", ")
            );
        }
        let version = binary_version(&dir.join("kube-apiserver"))?;
        found.push((dir, version));
    }
    Ok(found)
}

/// The release a kube-apiserver binary reports (`Kubernetes v1.36.3`).
fn binary_version(binary: &Path) -> anyhow::Result<Release> {
    let output = Command::new(binary)
        .arg("--version")
        .output()
        .with_context(|| format!("cannot run {} --version", binary.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_version_line(&text).with_context(|| {
        format!(
            "{} --version printed {:?}, not `Kubernetes vMAJOR.MINOR.PATCH`",
            binary.display(),
            text.trim()
        )
    })
}

/// Reads `Kubernetes v1.36.3` (anything after the patch number, such as `-rc.1`, ignored).
pub fn parse_version_line(text: &str) -> Option<Release> {
    let version = text.trim().strip_prefix("Kubernetes ")?;
    let end = version
        .char_indices()
        .skip(1)
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(version.len(), |(index, _)| index);
    version[..end].parse().ok()
}

/// Builds one release's binaries into `target/envtest/<release>/` unless they are there.
fn build(release: &Release) -> anyhow::Result<Assets> {
    let target = cargo::target_directory()?.join("envtest");
    let dir = target.join(release.to_string());
    let module = module_dir(release, &target)?;
    let go_mod = std::fs::read_to_string(module.join("go.mod"))
        .with_context(|| format!("cannot read {}", module.join("go.mod").display()))?;
    let stamp = format!("{go_mod}\n# ldflags: {}\n", ldflags(release));
    let built = BINARIES.iter().all(|binary| dir.join(binary).is_file());
    if built && std::fs::read_to_string(dir.join(STAMP)).is_ok_and(|old| old == stamp) {
        println!(
            "envtest {release}: already built in {} (from {})",
            dir.display(),
            module.display()
        );
        return Ok(Assets {
            release: *release,
            version: *release,
            dir,
        });
    }
    let go = go_version()?;
    println!(
        "envtest {release}: building {} with {go} from {} (cold: about 10 minutes a release on \
         two cores)",
        BINARIES.join(", "),
        module.display()
    );
    let start = Instant::now();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // No stamp until every binary is in place: an interrupted build is redone.
    let _ = std::fs::remove_file(dir.join(STAMP));
    let mut output_dir = dir.clone().into_os_string();
    output_dir.push("/");
    let status = Command::new("go")
        .current_dir(&module)
        .args(["build", "-trimpath", "-buildvcs=false", "-ldflags"])
        .arg(ldflags(release))
        .arg("-o")
        .arg(&output_dir)
        .args(PACKAGES.map(|(package, _)| package))
        .status()
        .context("cannot run go build")?;
    if !status.success() {
        bail!(
            "go build of Kubernetes {release} failed ({status}); see the output above (module {})",
            module.display()
        );
    }
    for (binary, (_, built_as)) in BINARIES.iter().zip(PACKAGES) {
        if *binary != built_as {
            std::fs::rename(dir.join(built_as), dir.join(binary)).with_context(|| {
                format!("cannot name {} {binary}", dir.join(built_as).display())
            })?;
        }
    }
    std::fs::write(dir.join(STAMP), stamp)
        .with_context(|| format!("cannot write {}", dir.join(STAMP).display()))?;
    println!(
        "envtest {release}: built in {:.0?} into {}",
        start.elapsed(),
        dir.display()
    );
    Ok(Assets {
        release: *release,
        version: *release,
        dir,
    })
}

/// The linker flags that stamp the binaries with their release, as Kubernetes' own build does
/// (without them `/version` says `v0.0.0-master`).
pub fn ldflags(release: &Release) -> String {
    let mut flags = vec!["-s".to_owned(), "-w".to_owned()];
    for package in [
        "k8s.io/component-base/version",
        "k8s.io/client-go/pkg/version",
    ] {
        for (name, value) in [
            ("gitVersion", format!("v{release}")),
            ("gitMajor", release.major.to_string()),
            ("gitMinor", release.minor.to_string()),
            ("gitTreeState", "clean".to_owned()),
        ] {
            flags.push(format!("-X {package}.{name}={value}"));
        }
    }
    flags.join(" ")
}

/// The committed module of a release, or one generated under `target/envtest/modules/`.
fn module_dir(release: &Release, target: &Path) -> anyhow::Result<PathBuf> {
    let committed = cargo::repo_root()
        .join("e2e")
        .join("envtest")
        .join(release.to_string());
    if committed.join("go.mod").is_file() {
        return Ok(committed);
    }
    let generated = target.join("modules").join(release.to_string());
    if !generated.join("go.sum").is_file() {
        println!(
            "envtest {release}: no module in {}; generating one in {}",
            committed.display(),
            generated.display()
        );
        write_module(release, &generated)?;
    }
    Ok(generated)
}

/// Writes the Go module that builds `release` into `dir` and lets `go mod tidy` complete it.
fn write_module(release: &Release, dir: &Path) -> anyhow::Result<()> {
    go_version()?;
    let kubernetes_go_mod = download_go_mod(release)?;
    let text = module_file(release, &kubernetes_go_mod)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join("go.mod"), text)
        .with_context(|| format!("cannot write {}", dir.join("go.mod").display()))?;
    let status = Command::new("go")
        .current_dir(dir)
        .args(["mod", "tidy"])
        .status()
        .context("cannot run go mod tidy")?;
    if !status.success() {
        bail!("go mod tidy in {} failed ({status})", dir.display());
    }
    Ok(())
}

/// The `go.mod` of `k8s.io/kubernetes` at `release`, from the Go module proxy.
fn download_go_mod(release: &Release) -> anyhow::Result<String> {
    let output = Command::new("go")
        .args(["mod", "download", "-json"])
        .arg(format!("k8s.io/kubernetes@v{release}"))
        .output()
        .context("cannot run go mod download")?;
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "go mod download k8s.io/kubernetes@v{release} printed no JSON: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )
    })?;
    if let Some(error) = info.get("Error").and_then(serde_json::Value::as_str) {
        bail!(
            "the Go module proxy has no k8s.io/kubernetes v{release}: {error}; list the served \
             ones with `go list -m -versions k8s.io/kubernetes`"
        );
    }
    let path = info
        .get("GoMod")
        .and_then(serde_json::Value::as_str)
        .context("go mod download did not say where go.mod is")?;
    std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))
}

/// The module file that builds `release`: requires `k8s.io/kubernetes` at the release, names
/// the three binaries as tools (so `go mod tidy` keeps what they need), and pins each staging
/// module Kubernetes replaces by a path to its published version.
pub fn module_file(release: &Release, kubernetes_go_mod: &str) -> anyhow::Result<String> {
    let go_line = kubernetes_go_mod
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("go "))
        .context("k8s.io/kubernetes's go.mod has no go line")?;
    // Only the main module's go and godebug lines set the runtime's defaults: take
    // Kubernetes' own, so the binaries behave as its release builds do.
    let godebug: String = kubernetes_go_mod
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("godebug "))
        .map(|line| format!("{line}\n"))
        .collect();
    let staging: Vec<&str> = kubernetes_go_mod
        .lines()
        .filter_map(|line| {
            let (module, target) = line.trim().split_once("=>")?;
            target
                .trim()
                .starts_with("./staging/")
                .then(|| module.trim())
        })
        .collect();
    if staging.is_empty() {
        bail!("k8s.io/kubernetes v{release}'s go.mod replaces no staging module");
    }
    let mut text = format!(
        "// Builds etcd, kube-apiserver and kube-controller-manager of Kubernetes {release} for\n\
         // `cargo xtask envtest install`; written by `cargo xtask envtest module {release}`.\n\
         module godwit.invalid/envtest\n\n\
         {go_line}\n\
         {godebug}\n\
         require k8s.io/kubernetes v{release}\n\n\
         tool (\n"
    );
    for (package, _) in PACKAGES {
        text.push_str(&format!("\t{package}\n"));
    }
    text.push_str(")\n\n// Kubernetes points these at its own source tree; use the published ones.\nreplace (\n");
    let version = release.staging_version();
    for module in staging {
        text.push_str(&format!("\t{module} => {module} {version}\n"));
    }
    text.push_str(")\n");
    Ok(text)
}

/// `go version`'s answer, or an error saying what to install.
fn go_version() -> anyhow::Result<String> {
    let output = Command::new("go").arg("version").output();
    match output {
        Ok(output) if output.status.success() => Ok(String::from_utf8_lossy(&output.stdout)
            .trim()
            .trim_start_matches("go version ")
            .to_owned()),
        _ => bail!(
            "the envtest control planes are built with Go, and `go version` did not answer: \
             install Go 1.26 or newer (https://go.dev/dl/, or your distribution's golang \
             package), or set KUBEBUILDER_ASSETS to a directory holding {}",
            BINARIES.join(", ")
        ),
    }
}

/// `run [--k8s RELEASE] [-- COMMAND...]`.
fn run_command(args: &[String]) -> anyhow::Result<()> {
    let (flags, command) = match args.iter().position(|arg| arg == "--") {
        Some(split) => (&args[..split], &args[split + 1..]),
        None => (args, &args[..0]),
    };
    let release = match releases_flag(flags)? {
        Some(releases) if releases.len() == 1 => releases[0],
        Some(_) => bail!("envtest run starts one control plane; give one release to --k8s"),
        None => *default_releases()
            .last()
            .context("no default envtest release")?,
    };
    let assets = install(&[release])?;
    let assets = assets.first().context("install returned nothing")?;
    let bin_dir = cargo::build(&["godwit-e2e"])?;
    let launcher = bin_dir.join(format!("godwit-envtest{}", std::env::consts::EXE_SUFFIX));
    let status = Command::new(&launcher)
        .arg("--assets")
        .arg(&assets.dir)
        .arg("--")
        .args(command)
        .status()
        .with_context(|| format!("cannot run {}", launcher.display()))?;
    if !status.success() {
        bail!("{} exited with {status}", launcher.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(text: &str) -> Release {
        text.parse().unwrap()
    }

    #[test]
    fn parses_releases() {
        assert_eq!(
            release("v1.36.3"),
            Release {
                major: 1,
                minor: 36,
                patch: 3
            }
        );
        assert_eq!(release(" 1.33.13 ").to_string(), "1.33.13");
        assert_eq!(release("1.36.3").staging_version(), "v0.36.3");
        for bad in ["1.36", "1.36.x", "one.two.three", "1.36.3.1", ""] {
            assert!(bad.parse::<Release>().is_err(), "{bad}");
        }
        assert_eq!(
            parse_releases("1.36.3,1.33.13,1.36.3").unwrap(),
            [release("1.33.13"), release("1.36.3")]
        );
        assert!(parse_releases(",").is_err());
        assert_eq!(default_releases().len(), DEFAULT_RELEASES.len());
        assert!(default_releases().windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn reads_the_k8s_flag() {
        let args = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        assert_eq!(releases_flag(&args(&[])).unwrap(), None);
        assert_eq!(
            releases_flag(&args(&["--k8s", "1.36.3"])).unwrap(),
            Some(vec![release("1.36.3")])
        );
        assert_eq!(
            releases_flag(&args(&["--k8s=1.36.3,1.34.4"])).unwrap(),
            Some(vec![release("1.34.4"), release("1.36.3")])
        );
        assert!(releases_flag(&args(&["--k8s"])).is_err());
        assert!(releases_flag(&args(&["--kates", "1"])).is_err());
    }

    #[test]
    fn reads_the_version_a_binary_reports() {
        assert_eq!(
            parse_version_line("Kubernetes v1.36.3\n"),
            Some(release("1.36.3"))
        );
        assert_eq!(
            parse_version_line("Kubernetes v1.37.0-rc.1"),
            Some(release("1.37.0"))
        );
        assert_eq!(
            parse_version_line("Kubernetes v0.0.0-master+$Format:%H$"),
            Some(release("0.0.0"))
        );
        assert_eq!(parse_version_line("etcd Version: 3.6.8"), None);
    }

    #[test]
    fn writes_the_module_file() {
        let kubernetes = "module k8s.io/kubernetes\n\ngo 1.26.0\n\ngodebug default=go1.26\n\nrequire (\n\tk8s.io/api v0.0.0\n)\n\n\
                          replace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\
                          \tk8s.io/client-go => ./staging/src/k8s.io/client-go\n\
                          \tgithub.com/other/thing => github.com/other/thing v1.0.0\n)\n";
        let text = module_file(&release("1.36.3"), kubernetes).unwrap();
        assert!(
            text.contains("\ngo 1.26.0\ngodebug default=go1.26\n"),
            "{text}"
        );
        assert!(
            text.contains("require k8s.io/kubernetes v1.36.3\n"),
            "{text}"
        );
        assert!(
            text.contains("\tk8s.io/api => k8s.io/api v0.36.3\n"),
            "{text}"
        );
        assert!(
            text.contains("\tk8s.io/client-go => k8s.io/client-go v0.36.3\n"),
            "{text}"
        );
        assert!(!text.contains("github.com/other/thing"), "{text}");
        for (package, _) in PACKAGES {
            assert!(text.contains(&format!("\t{package}\n")), "{text}");
        }
        assert!(module_file(&release("1.36.3"), "module x\n").is_err());
    }

    #[test]
    fn the_ldflags_stamp_the_release() {
        let flags = ldflags(&release("1.33.13"));
        assert!(flags.contains("-X k8s.io/component-base/version.gitVersion=v1.33.13"));
        assert!(flags.contains("-X k8s.io/component-base/version.gitMinor=33"));
        assert!(flags.contains("-X k8s.io/client-go/pkg/version.gitMajor=1"));
    }

    /// The committed modules build the default releases, and say so in their first lines.
    #[test]
    fn the_default_releases_have_committed_modules() {
        for release in default_releases() {
            let dir = cargo::repo_root()
                .join("e2e")
                .join("envtest")
                .join(release.to_string());
            let go_mod = std::fs::read_to_string(dir.join("go.mod")).unwrap();
            assert!(
                go_mod.contains(&format!("\tk8s.io/kubernetes v{release}")),
                "{}",
                dir.display()
            );
            assert!(
                go_mod.contains(&format!(
                    "k8s.io/api => k8s.io/api {}",
                    release.staging_version()
                )),
                "{}",
                dir.display()
            );
            assert!(dir.join("go.sum").is_file(), "{}", dir.display());
        }
    }
}
