//! An append-only file whose every line is synced before the call returns:
//! the log channel's and the wallet push log's output. A file renamed
//! over it is followed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A file opened on first use (mode 0600) and appended to, durably.
pub struct AppendFile {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl AppendFile {
    /// The file at `path` (created on the first append).
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            file: Mutex::new(None),
        }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `line` and syncs it to disk. A file replaced meanwhile (a
    /// forget rewrote it without the customer) is opened afresh.
    pub fn append(&self, line: &[u8]) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let replaced = match (&*guard, std::fs::metadata(&self.path)) {
            (Some(open), Ok(now)) => open.metadata().map_or(true, |m| m.ino() != now.ino()),
            (Some(_), Err(_)) => true,
            (None, _) => false,
        };
        if replaced {
            *guard = None;
        }
        if guard.is_none() {
            use std::os::unix::fs::OpenOptionsExt;
            *guard = Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(&self.path)?,
            );
        }
        let file = guard
            .as_mut()
            .ok_or_else(|| std::io::Error::other("file not open"))?;
        file.write_all(line)?;
        file.sync_data()
    }
}
