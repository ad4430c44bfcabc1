//! The pass certificates: the Pass Type ID certificate with its key (which
//! also authenticates to APNs) and Apple's WWDR intermediate. Checked at
//! start and by `stampcard wallet check`.

use openssl::asn1::Asn1Time;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use serde::Serialize;

use crate::WalletError;

/// Days before expiry from which the check warns.
pub const EXPIRY_WARNING_DAYS: i32 = 30;

/// The loaded certificates.
#[derive(Clone)]
pub struct PassCertificates {
    /// The Pass Type ID certificate.
    pub cert: X509,
    /// Its private key.
    pub key: PKey<Private>,
    /// Apple's WWDR intermediate that issued it.
    pub wwdr: X509,
    /// The certificate as PEM (for APNs).
    pub cert_pem: Vec<u8>,
    /// The key as PKCS#8 PEM (for APNs).
    pub key_pem: Vec<u8>,
}

/// What the check found.
#[derive(Debug, Clone, Serialize)]
pub struct CertReport {
    /// The certificate's subject, one line.
    pub subject: String,
    /// Its UID (the pass type identifier it is for).
    pub uid: Option<String>,
    /// Its OU (the team identifier).
    pub team: Option<String>,
    /// Its issuer, one line.
    pub issuer: String,
    /// Expiry, as OpenSSL prints it.
    pub not_after: String,
    /// Whole days left (negative when expired).
    pub days_left: i32,
    /// Problems that stop passes from working.
    pub problems: Vec<String>,
    /// Warnings (expiry within [`EXPIRY_WARNING_DAYS`]).
    pub warnings: Vec<String>,
}

impl CertReport {
    /// Whether passes can be signed with these certificates.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn name_line(name: &openssl::x509::X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_default();
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn entry(name: &openssl::x509::X509NameRef, nid: Nid) -> Option<String> {
    name.entries_by_nid(nid)
        .next()
        .and_then(|e| e.data().to_string().ok())
}

impl PassCertificates {
    /// Parses the three PEM files; `what` names each in errors.
    pub fn from_pem(cert: &[u8], key: &[u8], wwdr: &[u8]) -> Result<Self, WalletError> {
        let bad = |what: &str, e: openssl::error::ErrorStack| WalletError::Certificate {
            what: what.into(),
            reason: format!("not a PEM {}: {e}", what.rsplit(' ').next().unwrap_or(what)),
        };
        let cert_x = X509::from_pem(cert).map_err(|e| bad("[wallet] certificate", e))?;
        let key_p = PKey::private_key_from_pem(key).map_err(|e| bad("[wallet] private_key", e))?;
        let wwdr_x = X509::from_pem(wwdr).map_err(|e| bad("[wallet] wwdr_certificate", e))?;
        let key_pem = key_p.private_key_to_pem_pkcs8()?;
        let cert_pem = cert_x.to_pem()?;
        Ok(Self {
            cert: cert_x,
            key: key_p,
            wwdr: wwdr_x,
            cert_pem,
            key_pem,
        })
    }

    /// Reads the three PEM files.
    pub fn load(
        cert: &std::path::Path,
        key: &std::path::Path,
        wwdr: &std::path::Path,
    ) -> Result<Self, WalletError> {
        let read = |what: &str, p: &std::path::Path| {
            std::fs::read(p).map_err(|e| WalletError::Certificate {
                what: what.into(),
                reason: format!("cannot read {}: {e}", p.display()),
            })
        };
        Self::from_pem(
            &read("[wallet] certificate", cert)?,
            &read("[wallet] private_key", key)?,
            &read("[wallet] wwdr_certificate", wwdr)?,
        )
    }

    /// Checks the chain against the configured identifiers.
    pub fn check(&self, pass_type_id: &str, team_id: &str) -> Result<CertReport, WalletError> {
        let subject = self.cert.subject_name();
        let uid = entry(subject, Nid::USERID);
        let team = entry(subject, Nid::ORGANIZATIONALUNITNAME);
        let now = Asn1Time::days_from_now(0)?;
        let diff = now.diff(self.cert.not_after())?;
        let days_left = diff.days;
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        if uid.as_deref() != Some(pass_type_id) {
            problems.push(format!(
                "the certificate is for pass type '{}', but [wallet] pass_type_id is '{pass_type_id}'",
                uid.as_deref().unwrap_or("(none)")
            ));
        }
        if team.as_deref() != Some(team_id) {
            problems.push(format!(
                "the certificate is for team '{}', but [wallet] team_id is '{team_id}'",
                team.as_deref().unwrap_or("(none)")
            ));
        }
        if !self.cert.public_key()?.public_eq(&self.key) {
            problems.push("the private key does not belong to the certificate".into());
        }
        let wwdr_key = self.wwdr.public_key()?;
        if !self.cert.verify(&wwdr_key).unwrap_or(false) {
            problems.push(
                "the certificate was not issued by the WWDR certificate given (use Apple's WWDR G4)"
                    .into(),
            );
        }
        if now.compare(self.cert.not_before())? == std::cmp::Ordering::Less {
            problems.push("the certificate is not valid yet".into());
        }
        if days_left < 0 || (days_left == 0 && diff.secs < 0) {
            problems.push(format!(
                "the certificate expired on {}",
                self.cert.not_after()
            ));
        } else if days_left < EXPIRY_WARNING_DAYS {
            warnings.push(format!(
                "the certificate expires in {days_left} day(s), on {}: renew it in the Apple developer account",
                self.cert.not_after()
            ));
        }
        let wwdr_days = now.diff(self.wwdr.not_after())?.days;
        if wwdr_days < 0 {
            problems.push(format!(
                "the WWDR certificate expired on {}",
                self.wwdr.not_after()
            ));
        }
        Ok(CertReport {
            subject: name_line(subject),
            uid,
            team,
            issuer: name_line(self.cert.issuer_name()),
            not_after: self.cert.not_after().to_string(),
            days_left,
            problems,
            warnings,
        })
    }
}
