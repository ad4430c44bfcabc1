//! The pass signature: PKCS#7 detached, DER, over manifest.json exactly as
//! stored (binary mode: no line-ending rewriting), signed with the Pass Type
//! ID certificate, the WWDR intermediate included, with a signing time.

use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::stack::Stack;

use crate::WalletError;
use crate::certs::PassCertificates;

/// Signs `manifest` and returns the DER signature.
pub fn sign_manifest(certs: &PassCertificates, manifest: &[u8]) -> Result<Vec<u8>, WalletError> {
    let mut chain = Stack::new()?;
    chain.push(certs.wwdr.clone())?;
    // Signed attributes stay on (no NOATTR): they carry the signing time.
    let flags = Pkcs7Flags::DETACHED | Pkcs7Flags::BINARY;
    let p7 = Pkcs7::sign(&certs.cert, &certs.key, &chain, manifest, flags)?;
    Ok(p7.to_der()?)
}
