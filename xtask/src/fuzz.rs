//! `cargo xtask fuzz`: runs each cargo-fuzz target of `fuzz/` for a given time with a nightly
//! toolchain, seeded from `fuzz/seeds/` and the fixtures, and prints one row per target (time
//! run, executions, crashes, corpus size). Fails when a target crashes, naming the input that
//! did it. libFuzzer's own output goes to `fuzz/logs/<target>.log`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, bail};

use crate::cargo;

const HELP: &str = "\
usage: cargo xtask fuzz [--seconds N] [--target NAME]...

Runs each fuzz target of fuzz/ for N seconds (default 60), one after another, and prints a table
of executions, crashes and corpus size per target. Needs a nightly toolchain
(rustup toolchain install nightly) and cargo-fuzz (cargo install cargo-fuzz --locked).
The corpus grows in fuzz/corpus/<target>/ (kept between runs, not committed); a crashing input
lands in fuzz/artifacts/<target>/ and fails the task. --target (repeatable, or comma-separated)
runs only those targets:
";

/// One fuzz target of `fuzz/`: its name (the file `fuzz/fuzz_targets/<name>.rs`), the longest
/// input libFuzzer makes for it, and the folders (from the repository root) of its seed inputs
/// besides `fuzz/seeds/<name>/`.
struct Target {
    name: &'static str,
    max_len: usize,
    fixtures: &'static [&'static str],
}

const TARGETS: &[Target] = &[
    Target {
        name: "tarball_reader",
        // The fixture backup is 23 KiB of plain tar; room to grow past it.
        max_len: 64 * 1024,
        fixtures: &["fixtures/tarballs"],
    },
    Target {
        name: "user_priorities",
        max_len: 4096,
        fixtures: &[],
    },
    Target {
        name: "restore_resource_priorities",
        max_len: 4096,
        fixtures: &[],
    },
    Target {
        name: "label_selector",
        max_len: 4096,
        fixtures: &[],
    },
    Target {
        name: "discovery_document",
        // The recorded aggregated discovery of a real kube-apiserver is 46 KiB.
        max_len: 64 * 1024,
        fixtures: &["fixtures/discovery", "fixtures/apiserver"],
    },
];

/// What one target's run showed.
struct Outcome {
    name: &'static str,
    seconds: u64,
    runs: Option<u64>,
    /// The input that crashed it, if one did.
    crash: Option<PathBuf>,
    corpus: usize,
}

/// Runs the fuzz targets with the user's arguments.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    if args.iter().any(|arg| arg == "-h" || arg == "--help") {
        print!("{HELP}");
        for target in TARGETS {
            println!("  {}", target.name);
        }
        return Ok(());
    }
    let (seconds, targets) = parse_args(args)?;
    let root = cargo::repo_root();
    let fuzz_dir = root.join("fuzz");
    check_tools()?;

    // One build for every target; each run after it finds nothing to rebuild.
    let status = cargo_fuzz(&fuzz_dir)
        .args(["build", "--debug-assertions"])
        .status()
        .context("cannot run cargo +nightly fuzz build")?;
    if !status.success() {
        bail!("building the fuzz targets failed ({status})");
    }

    let logs = fuzz_dir.join("logs");
    fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let mut outcomes = Vec::new();
    for target in targets {
        let log = logs.join(format!("{}.log", target.name));
        println!(
            "fuzz: {} for {seconds} s (libFuzzer's output: {})",
            target.name,
            log.display()
        );
        outcomes.push(run_target(&root, &fuzz_dir, target, seconds, &log)?);
    }

    print!("{}", table(&outcomes));
    let crashed: Vec<&Outcome> = outcomes.iter().filter(|o| o.crash.is_some()).collect();
    if crashed.is_empty() {
        return Ok(());
    }
    for outcome in &crashed {
        if let Some(input) = &outcome.crash {
            eprintln!(
                "{} crashed on {}; reproduce with: cd fuzz && cargo +nightly fuzz run \
                 --debug-assertions {} {}",
                outcome.name,
                input.display(),
                outcome.name,
                input.display()
            );
        }
    }
    bail!(
        "{} fuzz target(s) crashed; fix the bug and add the input as a regression test beside \
         the code",
        crashed.len()
    )
}

/// `--seconds N` and the targets chosen (all when none is named).
fn parse_args(args: &[String]) -> anyhow::Result<(u64, Vec<&'static Target>)> {
    let mut seconds = 60;
    let mut names: Vec<String> = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .with_context(|| format!("{flag} needs a value"))
        };
        match flag {
            "--seconds" => {
                let text = value()?;
                seconds = text
                    .parse()
                    .ok()
                    .filter(|seconds| *seconds > 0)
                    .with_context(|| format!("--seconds takes a positive number, not {text:?}"))?;
            }
            "--target" => names.extend(value()?.split(',').map(|name| name.trim().to_owned())),
            other => bail!("unknown argument {other:?}\n\n{HELP}"),
        }
    }
    if names.is_empty() {
        return Ok((seconds, TARGETS.iter().collect()));
    }
    let mut targets = Vec::new();
    for name in names {
        let Some(target) = TARGETS.iter().find(|target| target.name == name) else {
            let known: Vec<&str> = TARGETS.iter().map(|target| target.name).collect();
            bail!(
                "no fuzz target {name:?}; the targets are {}",
                known.join(", ")
            );
        };
        targets.push(target);
    }
    Ok((seconds, targets))
}

/// `cargo +nightly fuzz` for the project in `fuzz_dir`, free of the variables the stable cargo
/// running xtask set, so rustup's proxy picks nightly.
fn cargo_fuzz(fuzz_dir: &Path) -> Command {
    let mut command = Command::new("cargo");
    command
        .arg("+nightly")
        .arg("fuzz")
        .current_dir(fuzz_dir)
        .env_remove("CARGO")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUSTC")
        .env_remove("RUSTC_WRAPPER");
    command
}

/// Fails, saying how to install it, when nightly or cargo-fuzz is missing.
fn check_tools() -> anyhow::Result<()> {
    let works = |args: &[&str]| {
        Command::new("cargo")
            .args(args)
            .env_remove("CARGO")
            .env_remove("RUSTUP_TOOLCHAIN")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if !works(&["+nightly", "--version"]) {
        bail!(
            "no nightly toolchain (cargo-fuzz needs one); install it with \
             `rustup toolchain install nightly --profile minimal`"
        );
    }
    if !works(&["+nightly", "fuzz", "--version"]) {
        bail!("cargo-fuzz is not installed; install it with `cargo install cargo-fuzz --locked`");
    }
    Ok(())
}

/// Runs one target for `seconds`, its output into `log`.
fn run_target(
    root: &Path,
    fuzz_dir: &Path,
    target: &'static Target,
    seconds: u64,
    log: &Path,
) -> anyhow::Result<Outcome> {
    let corpus = fuzz_dir.join("corpus").join(target.name);
    fs::create_dir_all(&corpus).with_context(|| format!("cannot create {}", corpus.display()))?;
    let artifacts = fuzz_dir.join("artifacts").join(target.name);
    let before = artifact_names(&artifacts);

    let mut command = cargo_fuzz(fuzz_dir);
    command
        .args(["run", "--debug-assertions", target.name])
        .arg(&corpus);
    let seeds = fuzz_dir.join("seeds").join(target.name);
    if seeds.is_dir() {
        command.arg(&seeds);
    }
    command.args(target.fixtures.iter().map(|dir| root.join(dir)));
    command.args([
        "--".to_owned(),
        format!("-max_total_time={seconds}"),
        format!("-max_len={}", target.max_len),
        // One input taking longer than this is a bug of its own (a hang).
        "-timeout=20".to_owned(),
        "-rss_limit_mb=2048".to_owned(),
        "-print_final_stats=1".to_owned(),
    ]);
    let output =
        fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let started = Instant::now();
    let status = command
        .stdout(output.try_clone()?)
        .stderr(output)
        .status()
        .context("cannot run cargo +nightly fuzz run")?;
    let elapsed = started.elapsed().as_secs();
    let text = fs::read_to_string(log).with_context(|| format!("cannot read {}", log.display()))?;
    let stats = Stats::parse(&text);
    let crash = stats.crash.map(PathBuf::from).or_else(|| {
        artifact_names(&artifacts)
            .into_iter()
            .find(|name| !before.contains(name))
            .map(|name| artifacts.join(name))
    });
    if !status.success() && crash.is_none() {
        bail!(
            "fuzz target {} failed without a crashing input ({status}); see {}",
            target.name,
            log.display()
        );
    }
    Ok(Outcome {
        name: target.name,
        seconds: stats.seconds.unwrap_or(elapsed),
        runs: stats.runs,
        crash,
        corpus: fs::read_dir(&corpus).map_or(0, |entries| entries.count()),
    })
}

/// The files in an artifacts folder (none when it does not exist yet).
fn artifact_names(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// What libFuzzer's output says about a run.
#[derive(Debug, Default, PartialEq, Eq)]
struct Stats {
    runs: Option<u64>,
    seconds: Option<u64>,
    crash: Option<String>,
}

impl Stats {
    fn parse(output: &str) -> Self {
        let mut stats = Stats::default();
        for line in output.lines() {
            let line = line.trim();
            if let Some(runs) = line.strip_prefix("stat::number_of_executed_units:") {
                stats.runs = runs.trim().parse().ok();
            } else if let Some(rest) = line.strip_prefix("Done ") {
                // `Done 123 runs in 10 second(s)`
                let words: Vec<&str> = rest.split_whitespace().collect();
                if let [runs, "runs", "in", seconds, ..] = words.as_slice() {
                    stats.runs = stats.runs.or(runs.parse().ok());
                    stats.seconds = seconds.parse().ok();
                }
            } else if let Some(rest) = line.split_once("Test unit written to ") {
                stats.crash = Some(rest.1.trim().to_owned());
            }
        }
        stats
    }
}

/// The summary table, one row per target.
fn table(outcomes: &[Outcome]) -> String {
    let width = outcomes
        .iter()
        .map(|outcome| outcome.name.len())
        .chain(["target".len()])
        .max()
        .unwrap_or(0);
    let mut text = format!(
        "\n{:<width$}  {:>8}  {:>12}  {:>7}  {:>6}\n",
        "target", "seconds", "runs", "crashes", "corpus"
    );
    for outcome in outcomes {
        let runs = outcome
            .runs
            .map_or_else(|| "?".to_owned(), |runs| runs.to_string());
        text.push_str(&format!(
            "{:<width$}  {:>8}  {:>12}  {:>7}  {:>6}\n",
            outcome.name,
            outcome.seconds,
            runs,
            usize::from(outcome.crash.is_some()),
            outcome.corpus
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn names(targets: &[&Target]) -> Vec<&'static str> {
        targets.iter().map(|target| target.name).collect()
    }

    #[test]
    fn reads_the_arguments() {
        let (seconds, targets) = parse_args(&[]).unwrap();
        assert_eq!(seconds, 60);
        assert_eq!(targets.len(), TARGETS.len());
        let (seconds, targets) =
            parse_args(&args("--seconds 5 --target label_selector,user_priorities")).unwrap();
        assert_eq!(seconds, 5);
        assert_eq!(names(&targets), ["label_selector", "user_priorities"]);
        let (seconds, targets) = parse_args(&args("--seconds=7 --target=tarball_reader")).unwrap();
        assert_eq!((seconds, names(&targets)), (7, vec!["tarball_reader"]));
        for bad in [
            "--seconds 0",
            "--seconds x",
            "--seconds",
            "--target nope",
            "--fast",
        ] {
            assert!(parse_args(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_libfuzzer_output() {
        let output = "\
#65536\tpulse  cov: 1 ft: 2 corp: 3/4b lim: 5 exec/s: 6 rss: 7Mb
Done 123456 runs in 11 second(s)
stat::number_of_executed_units: 123457
stat::average_exec_per_sec:     11223
";
        assert_eq!(
            Stats::parse(output),
            Stats {
                runs: Some(123457),
                seconds: Some(11),
                crash: None
            }
        );
        let crashed = "\
==123== ERROR: libFuzzer: deadly signal
artifact_prefix='/w/fuzz/artifacts/x/'; Test unit written to /w/fuzz/artifacts/x/crash-abc
stat::number_of_executed_units: 99
";
        let stats = Stats::parse(crashed);
        assert_eq!(
            stats.crash.as_deref(),
            Some("/w/fuzz/artifacts/x/crash-abc")
        );
        assert_eq!(stats.runs, Some(99));
    }

    #[test]
    fn prints_a_row_per_target() {
        let outcomes = [Outcome {
            name: "label_selector",
            seconds: 10,
            runs: Some(42),
            crash: None,
            corpus: 7,
        }];
        assert_eq!(
            table(&outcomes),
            "
target           seconds          runs  crashes  corpus
label_selector        10            42        0       7
"
        );
    }

    /// Every target here is a `[[bin]]` of fuzz/Cargo.toml with its file and seeds, and every
    /// file of fuzz/fuzz_targets/ is a target here.
    #[test]
    fn the_targets_match_the_fuzz_project() {
        let fuzz = cargo::repo_root().join("fuzz");
        let manifest = fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
        for target in TARGETS {
            assert!(
                manifest.contains(&format!("name = \"{}\"", target.name)),
                "{} is not a [[bin]] of fuzz/Cargo.toml",
                target.name
            );
            let seeds = fuzz.join("seeds").join(target.name);
            let fixtures = target.fixtures.iter().map(|d| cargo::repo_root().join(d));
            assert!(
                std::iter::once(seeds)
                    .chain(fixtures)
                    .all(|dir| dir.is_dir()),
                "a seed folder of {} is missing",
                target.name
            );
        }
        let mut files: Vec<String> = artifact_names(&fuzz.join("fuzz_targets"));
        files.sort();
        let mut expected: Vec<String> = TARGETS.iter().map(|t| format!("{}.rs", t.name)).collect();
        expected.sort();
        assert_eq!(files, expected);
    }
}
