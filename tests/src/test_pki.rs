//! A test-only PKI for wallet passes, generated fresh by each test: a fake
//! Apple root, a WWDR intermediate and a Pass Type ID certificate with the
//! UID and OU Apple's certificates carry. Nothing here is trusted anywhere.

use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, KeyUsage};
use openssl::x509::{X509, X509Name, X509NameBuilder};

/// The pass type identifier of the test certificate.
pub const PASS_TYPE_ID: &str = "pass.test.stampcard";
/// The team identifier of the test certificate.
pub const TEAM_ID: &str = "TESTTEAM01";

/// Files of a generated PKI.
pub struct TestPki {
    /// The fake root (to verify signatures against).
    pub root: PathBuf,
    /// The WWDR intermediate.
    pub wwdr: PathBuf,
    /// The Pass Type ID certificate.
    pub cert: PathBuf,
    /// Its private key (PKCS#8).
    pub key: PathBuf,
}

fn key() -> PKey<Private> {
    let rsa = Rsa::generate(2048).unwrap_or_else(|e| panic!("RSA key: {e}"));
    PKey::from_rsa(rsa).unwrap_or_else(|e| panic!("key: {e}"))
}

fn name(entries: &[(Nid, &str)]) -> X509Name {
    let mut b = X509NameBuilder::new().unwrap_or_else(|e| panic!("{e}"));
    for (nid, value) in entries {
        b.append_entry_by_nid(*nid, value)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    b.build()
}

fn cert(
    subject: &X509Name,
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    ca: bool,
    days: u32,
    serial: u32,
) -> X509 {
    let fail = |e: openssl::error::ErrorStack| -> X509 { panic!("certificate: {e}") };
    let build = || -> Result<X509, openssl::error::ErrorStack> {
        let mut b = X509::builder()?;
        b.set_version(2)?;
        let serial = BigNum::from_u32(serial)?.to_asn1_integer()?;
        b.set_serial_number(&serial)?;
        b.set_subject_name(subject)?;
        b.set_pubkey(key)?;
        let (from, until) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(days)?);
        b.set_not_before(&from)?;
        b.set_not_after(&until)?;
        if ca {
            b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
            b.append_extension(
                KeyUsage::new()
                    .critical()
                    .key_cert_sign()
                    .crl_sign()
                    .build()?,
            )?;
        } else {
            b.append_extension(BasicConstraints::new().build()?)?;
            b.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
        }
        let (issuer_name, signer): (&openssl::x509::X509NameRef, _) = match issuer {
            Some((c, k)) => (c.subject_name(), k),
            None => (subject, key),
        };
        b.set_issuer_name(issuer_name)?;
        b.sign(signer, MessageDigest::sha256())?;
        Ok(b.build())
    };
    build().unwrap_or_else(fail)
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Generates the PKI into `dir`; the pass certificate is valid `days` days
/// and names `pass_type_id` and `team_id`.
pub fn generate_with(dir: &Path, pass_type_id: &str, team_id: &str, days: u32) -> TestPki {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    let root_key = key();
    let root = cert(
        &name(&[(Nid::COMMONNAME, "Stampcard TEST ONLY Root CA")]),
        &root_key,
        None,
        true,
        3650,
        1,
    );
    let wwdr_key = key();
    let wwdr = cert(
        &name(&[
            (Nid::COMMONNAME, "Stampcard TEST ONLY WWDR"),
            (Nid::ORGANIZATIONALUNITNAME, "G4"),
        ]),
        &wwdr_key,
        Some((&root, &root_key)),
        true,
        3650,
        2,
    );
    let pass_key = key();
    let pass = cert(
        &name(&[
            (Nid::USERID, pass_type_id),
            (Nid::COMMONNAME, &format!("Pass Type ID: {pass_type_id}")),
            (Nid::ORGANIZATIONALUNITNAME, team_id),
            (Nid::ORGANIZATIONNAME, "Stampcard TEST ONLY"),
        ]),
        &pass_key,
        Some((&wwdr, &wwdr_key)),
        false,
        days,
        3,
    );
    let pem = |x: &X509| x.to_pem().unwrap_or_else(|e| panic!("{e}"));
    let pki = TestPki {
        root: dir.join("test-root.pem"),
        wwdr: dir.join("test-wwdr.pem"),
        cert: dir.join("test-pass-cert.pem"),
        key: dir.join("test-pass-key.pem"),
    };
    write(&pki.root, &pem(&root));
    write(&pki.wwdr, &pem(&wwdr));
    write(&pki.cert, &pem(&pass));
    write(
        &pki.key,
        &pass_key
            .private_key_to_pem_pkcs8()
            .unwrap_or_else(|e| panic!("{e}")),
    );
    pki
}

/// Generates the standard test PKI into `dir` (a year valid).
pub fn generate(dir: &Path) -> TestPki {
    generate_with(dir, PASS_TYPE_ID, TEAM_ID, 365)
}
