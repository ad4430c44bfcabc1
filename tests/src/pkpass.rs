//! Looking inside a .pkpass as the tests and the bench check one: its
//! files, and its detached signature verified with the openssl command line.

use std::io::Read;
use std::path::Path;

/// One file of a .pkpass archive.
pub struct Entry {
    /// Its name in the archive.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// How it is compressed (a pass stores every file uncompressed).
    pub compression: zip::CompressionMethod,
}

/// The files of a .pkpass archive, in archive order.
pub fn files(pkpass: &[u8]) -> zip::result::ZipResult<Vec<Entry>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(pkpass))?;
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i)?;
            let name = f.name()?.to_string();
            let compression = f.compression();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes)?;
            Ok(Entry {
                name,
                bytes,
                compression,
            })
        })
        .collect()
}

/// `openssl cms -verify` of a detached DER signature over `content`,
/// against the root certificate `root`.
pub fn openssl_verify(
    signature: &Path,
    content: &Path,
    root: &Path,
) -> std::io::Result<std::process::Output> {
    std::process::Command::new(crate::tools::require("openssl"))
        .args([
            "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any",
        ])
        .arg("-in")
        .arg(signature)
        .arg("-content")
        .arg(content)
        .arg("-CAfile")
        .arg(root)
        .args(["-out", "/dev/null"])
        .output()
}
