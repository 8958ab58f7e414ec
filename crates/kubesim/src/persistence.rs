//! Optional persistence: an append-only journal of writes in the data directory, replayed and
//! compacted at start, so a standalone kubesim keeps its objects and resourceVersion counter
//! across restarts.
//!
//! One JSON object per line: `{"rv":N,"group":G,"resource":R,"key":K,"object":O}` for a stored
//! object (`O` without `kind`/`apiVersion`), the same with `"object":null` for a delete, and
//! `{"rv":N}` to carry the counter over a compaction.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use axum::body::Bytes;
use serde_json::Value;

use crate::Error;
use crate::catalog::GroupResource;

const JOURNAL: &str = "kubesim.jsonl";

/// One object read back from disk.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Loaded {
    /// Its resource.
    pub(crate) gr: GroupResource,
    /// Its store key.
    pub(crate) key: String,
    /// Its resourceVersion.
    pub(crate) rv: u64,
    /// The object without kind and apiVersion.
    pub(crate) json: Bytes,
}

/// Everything in a data directory.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    /// The live objects, in key order per resource.
    pub(crate) objects: Vec<Loaded>,
    /// The highest resourceVersion ever handed out.
    pub(crate) rv: u64,
}

/// Replays the journal lines into the live objects.
pub(crate) fn replay(path: &Path, reader: impl BufRead) -> Result<Snapshot, Error> {
    let mut live: std::collections::BTreeMap<(GroupResource, String), (u64, Bytes)> =
        std::collections::BTreeMap::new();
    let mut rv = 0;
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| Error::Persistence {
            path: path.to_owned(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let corrupt = |message: String| Error::CorruptData {
            path: path.to_owned(),
            line: index + 1,
            message,
        };
        let record: Value = serde_json::from_str(&line).map_err(|err| corrupt(err.to_string()))?;
        let line_rv = record
            .get("rv")
            .and_then(Value::as_u64)
            .ok_or_else(|| corrupt("no \"rv\"".to_owned()))?;
        rv = rv.max(line_rv);
        let Some(key) = record.get("key").and_then(Value::as_str) else {
            continue;
        };
        let gr = GroupResource {
            group: record
                .get("group")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            resource: record
                .get("resource")
                .and_then(Value::as_str)
                .ok_or_else(|| corrupt("no \"resource\"".to_owned()))?
                .to_owned(),
        };
        match record.get("object") {
            Some(object) if object.is_object() => {
                live.insert(
                    (gr, key.to_owned()),
                    (line_rv, Bytes::from(object.to_string())),
                );
            }
            _ => {
                live.remove(&(gr, key.to_owned()));
            }
        }
    }
    Ok(Snapshot {
        objects: live
            .into_iter()
            .map(|((gr, key), (rv, json))| Loaded { gr, key, rv, json })
            .collect(),
        rv,
    })
}

fn record_line(rv: u64, gr: &GroupResource, key: &str, json: Option<&[u8]>) -> Vec<u8> {
    let mut line = format!(
        "{{\"rv\":{rv},\"group\":{},\"resource\":{},\"key\":{},\"object\":",
        Value::from(gr.group.as_str()),
        Value::from(gr.resource.as_str()),
        Value::from(key)
    )
    .into_bytes();
    line.extend_from_slice(json.unwrap_or(b"null"));
    line.extend_from_slice(b"}\n");
    line
}

enum Command {
    Line(Vec<u8>),
    Flush(mpsc::Sender<()>),
}

/// The journal writer: a thread that appends lines and flushes whenever it runs out of work.
#[derive(Debug)]
pub(crate) struct Journal {
    sender: mpsc::Sender<Command>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Line(line) => write!(f, "Line({} bytes)", line.len()),
            Command::Flush(_) => f.write_str("Flush"),
        }
    }
}

impl Journal {
    /// Reads the data directory (creating it if needed), compacts the journal to the live
    /// objects and starts appending to it.
    pub(crate) fn open(dir: &Path) -> Result<(Self, Snapshot), Error> {
        let io = |path: PathBuf| move |source| Error::Persistence { path, source };
        std::fs::create_dir_all(dir).map_err(io(dir.to_owned()))?;
        let path = dir.join(JOURNAL);
        let snapshot = match File::open(&path) {
            Ok(file) => replay(&path, BufReader::new(file))?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Snapshot::default(),
            Err(source) => return Err(Error::Persistence { path, source }),
        };
        let compacted = dir.join(format!("{JOURNAL}.tmp"));
        {
            let file = File::create(&compacted).map_err(io(compacted.clone()))?;
            let mut writer = BufWriter::new(file);
            let mut write = |bytes: &[u8]| writer.write_all(bytes);
            write(format!("{{\"rv\":{}}}\n", snapshot.rv).as_bytes())
                .map_err(io(compacted.clone()))?;
            for object in &snapshot.objects {
                write(&record_line(
                    object.rv,
                    &object.gr,
                    &object.key,
                    Some(&object.json),
                ))
                .map_err(io(compacted.clone()))?;
            }
            let file = writer.into_inner().map_err(|err| Error::Persistence {
                path: compacted.clone(),
                source: err.into_error(),
            })?;
            file.sync_all().map_err(io(compacted.clone()))?;
        }
        std::fs::rename(&compacted, &path).map_err(io(path.clone()))?;
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io(path.clone()))?;
        let (sender, receiver) = mpsc::channel::<Command>();
        let thread = std::thread::Builder::new()
            .name("kubesim-journal".to_owned())
            .spawn(move || write_loop(&path, file, &receiver))
            .map_err(io(dir.to_owned()))?;
        Ok((
            Self {
                sender,
                thread: Some(thread),
            },
            snapshot,
        ))
    }

    /// Records a stored object.
    pub(crate) fn put(&self, rv: u64, gr: &GroupResource, key: &str, json: &[u8]) {
        // A closed writer only happens at shutdown, when nothing more needs keeping.
        let _ = self
            .sender
            .send(Command::Line(record_line(rv, gr, key, Some(json))));
    }

    /// Records a deletion.
    pub(crate) fn delete(&self, rv: u64, gr: &GroupResource, key: &str) {
        let _ = self
            .sender
            .send(Command::Line(record_line(rv, gr, key, None)));
    }

    /// Waits until everything recorded so far is on disk.
    pub(crate) fn flush(&self) {
        let (done, wait) = mpsc::channel();
        if self.sender.send(Command::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    /// Flushes and stops the writer thread.
    pub(crate) fn close(mut self) {
        self.flush();
        let (replacement, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.sender, replacement));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_loop(path: &Path, file: File, receiver: &mpsc::Receiver<Command>) {
    let mut writer = BufWriter::with_capacity(1 << 16, file);
    let mut failed = false;
    let report = |err: std::io::Error, failed: &mut bool| {
        if !*failed {
            tracing::error!(path = %path.display(), %err, "kubesim cannot write its journal; objects written from now on will not survive a restart");
            *failed = true;
        }
    };
    while let Ok(command) = receiver.recv() {
        let mut pending = Some(command);
        while let Some(command) = pending.take() {
            match command {
                Command::Line(line) => {
                    if let Err(err) = writer.write_all(&line) {
                        report(err, &mut failed);
                    }
                }
                Command::Flush(done) => {
                    if let Err(err) = writer.flush().and_then(|()| writer.get_ref().sync_data()) {
                        report(err, &mut failed);
                    }
                    let _ = done.send(());
                }
            }
            pending = receiver.try_recv().ok();
        }
        if let Err(err) = writer.flush() {
            report(err, &mut failed);
        }
    }
    if let Err(err) = writer.flush() {
        report(err, &mut failed);
    }
}

#[cfg(test)]
mod tests;
