//! Creating a log so that a crash at any moment leaves either nothing at its path or a whole,
//! durable log: the database is built, synced and closed under a staging name beside the path,
//! then renamed into place. A process killed mid-creation used to leave a sled database
//! without a meta record where the log should be, which no restart could open.

use std::fs;
use std::path::{Path, PathBuf};

use super::meta::{Layout, LogMeta, LAYOUT_KEY};
use super::{open_sled, wait_until_released, LogError, META_KEY, META_TREE};

/// Builds the new log's database under the staging name: meta record and layout written,
/// flushed, sled closed (its lock released), and everything synced.
pub(super) fn stage(path: &Path, meta: &LogMeta, layout: Layout) -> Result<PathBuf, LogError> {
    let staging = staging_path(path)?;
    clear_leftover(&staging)?;
    let storage = |source| LogError::storage(&staging, source);
    let io = |source| LogError::io(&staging, source);
    {
        let db = open_sled(&staging)?;
        let meta_tree = db.open_tree(META_TREE).map_err(storage)?;
        meta_tree.insert(META_KEY, meta.encode()).map_err(storage)?;
        meta_tree
            .insert(LAYOUT_KEY, layout.marker())
            .map_err(storage)?;
        db.flush().map_err(storage)?;
    }
    wait_until_released(&staging.join("db"));
    // sled syncs neither its `conf` file nor the directory entries it creates.
    for written in ["db", "conf", "blobs", ""] {
        let file = staging.join(written);
        if file.exists() {
            fs::File::open(&file)
                .and_then(|file| file.sync_all())
                .map_err(io)?;
        }
    }
    Ok(staging)
}

/// Renames the staged database to `path` (an absent path, or an empty directory, which the
/// rename replaces) and syncs the parent directory, so that the log's name survives a crash.
pub(super) fn commit(staging: &Path, path: &Path) -> Result<(), LogError> {
    let io = |source| LogError::io(path, source);
    fs::rename(staging, path).map_err(io)?;
    fs::File::open(parent_of(path))
        .and_then(|dir| dir.sync_all())
        .map_err(io)
}

/// `.NAME.creating` beside `path`.
fn staging_path(path: &Path) -> Result<PathBuf, LogError> {
    let name = path.file_name().ok_or_else(|| {
        LogError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "a log path needs a name"),
        )
    })?;
    let mut staged = std::ffi::OsString::from(".");
    staged.push(name);
    staged.push(".creating");
    Ok(parent_of(path).join(staged))
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Removes what a creation killed before its rename left at `staging`, unless a process
/// still has it open (another creation of the same log, running now).
fn clear_leftover(staging: &Path) -> Result<(), LogError> {
    if !staging.exists() {
        return Ok(());
    }
    let db_file = staging.join("db");
    if db_file.exists() {
        let file = fs::File::open(&db_file).map_err(|e| LogError::io(staging, e))?;
        if fs2::FileExt::try_lock_exclusive(&file).is_err() {
            return Err(LogError::Locked {
                path: staging.to_path_buf(),
            });
        }
    }
    fs::remove_dir_all(staging).map_err(|e| LogError::io(staging, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{EventLog, LogKind};

    #[test]
    fn a_creation_killed_before_its_rename_leaves_no_log_and_is_redone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        // What a kill between staging and the rename leaves: a whole database, not renamed.
        let staging = stage(&path, &LogMeta::new(LogKind::Run), Layout::Blocks).unwrap();
        assert!(staging.join("db").is_file());
        assert!(matches!(
            EventLog::open(&path).err(),
            Some(LogError::NotFound { .. })
        ));
        let log = EventLog::create(&path, LogKind::Run).unwrap();
        assert_eq!((log.kind(), log.last_seq()), (LogKind::Run, 0));
        assert!(!staging.exists(), "the leftover is cleared");
        drop(log);
        assert_eq!(EventLog::open(&path).unwrap().kind(), LogKind::Run);
    }

    #[test]
    fn a_leftover_that_a_process_has_open_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        let staging = staging_path(&path).unwrap();
        let held = sled::open(&staging).unwrap();
        assert!(matches!(
            EventLog::create(&path, LogKind::Data).err(),
            Some(LogError::Locked { path }) if path == staging
        ));
        drop(held);
        assert!(!path.exists());
    }

    #[test]
    fn a_log_is_created_in_an_empty_directory_but_not_over_anything_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("made-by-hand");
        std::fs::create_dir(&path).unwrap();
        drop(EventLog::create(&path, LogKind::Data).unwrap());
        assert_eq!(EventLog::open(&path).unwrap().kind(), LogKind::Data);
        assert!(matches!(
            EventLog::create(&path, LogKind::Data).err(),
            Some(LogError::AlreadyExists { .. })
        ));
    }

    #[test]
    fn the_staging_name_sits_beside_the_log() {
        assert_eq!(
            staging_path(Path::new("logs/demo.run")).unwrap(),
            Path::new("logs/.demo.run.creating")
        );
        assert_eq!(
            staging_path(Path::new("demo.run")).unwrap(),
            Path::new("./.demo.run.creating")
        );
        assert!(staging_path(Path::new("/")).is_err());
    }
}
