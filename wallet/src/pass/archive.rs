//! The .pkpass archive: every file, manifest.json with the SHA-1 of each,
//! and the signature over the manifest; entries stored uncompressed.

use std::io::Write;

use sha1::{Digest, Sha1};
use zip::write::SimpleFileOptions;

use crate::WalletError;
use crate::certs::PassCertificates;
use crate::sign::sign_manifest;

/// The manifest: file name → SHA-1 (hex) of its bytes, for every file.
pub fn manifest(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let map: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .map(|(name, bytes)| (name.clone(), hex::encode(Sha1::digest(bytes)).into()))
        .collect();
    serde_json::to_vec(&map).unwrap_or_default()
}

/// Packs and signs a pass from its files (pass.json and images).
pub fn pkpass(
    certs: &PassCertificates,
    files: Vec<(String, Vec<u8>)>,
) -> Result<Vec<u8>, WalletError> {
    if !files.iter().any(|(n, _)| n == "pass.json") || !files.iter().any(|(n, _)| n == "icon.png") {
        return Err(WalletError::Build(
            "a pass needs pass.json and icon.png".into(),
        ));
    }
    let manifest = manifest(&files);
    let signature = sign_manifest(certs, &manifest)?;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    let all = files.into_iter().chain([
        ("manifest.json".to_string(), manifest),
        ("signature".to_string(), signature),
    ]);
    for (name, bytes) in all {
        zip.start_file(name, stored)?;
        zip.write_all(&bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}
