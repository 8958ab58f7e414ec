//! The crate's one error type.

/// Everything that can go wrong when starting or talking to a kubesim server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listening socket could not be opened.
    #[error(
        "cannot listen on 127.0.0.1:{port}: {source}; pick another port or pass 0 for a free one"
    )]
    Bind {
        /// The port that was asked for.
        port: u16,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The data directory could not be read or written.
    #[error("kubesim data directory {path}: {source}; check that it exists and is writable")]
    Persistence {
        /// The file or directory involved.
        path: std::path::PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A stored object in the data directory is not valid JSON.
    #[error(
        "kubesim data file {path} line {line} is not a valid record: {message}; remove the data directory to start afresh"
    )]
    CorruptData {
        /// The file holding the bad record.
        path: std::path::PathBuf,
        /// One-based line number.
        line: usize,
        /// What was wrong with it.
        message: String,
    },
    /// A profile name that kubesim does not know.
    #[error("unknown kubesim profile {given:?}: known profiles are {known}")]
    UnknownProfile {
        /// The name that was given.
        given: String,
        /// The known names, comma separated.
        known: String,
    },
    /// The node port range is empty or reversed.
    #[error("node port range {start}-{end} is empty; give the lower port first")]
    NodePortRange {
        /// First port of the range.
        start: u16,
        /// Last port of the range.
        end: u16,
    },
    /// The self-signed certificate for the TLS side could not be made.
    #[error("cannot set up TLS for kubesim: {message}")]
    Tls {
        /// What went wrong.
        message: String,
    },
    /// A kube client could not be built for the server.
    #[error("cannot build a kube client for kubesim at {url}: {message}")]
    Client {
        /// The server URL.
        url: String,
        /// What kube said.
        message: String,
    },
}
