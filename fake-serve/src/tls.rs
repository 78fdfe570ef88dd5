//! HTTPS: a throwaway certificate authority that a client trusts for one test
//! (`REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`, or a root added in code), and a server on it.

use std::fs;
use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A throwaway certificate authority and a server certificate it signed for `localhost` and
/// `127.0.0.1`, kept in memory and written to a folder.
pub struct Throwaway {
    ca_pem_path: PathBuf,
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for Throwaway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throwaway")
            .field("ca_pem_path", &self.ca_pem_path)
            .finish_non_exhaustive()
    }
}

impl Throwaway {
    /// Creates the authority and the server certificate, and writes `dir/cert.pem` (the
    /// authority: the bundle a client trusts), `dir/server.pem` and `dir/key.pem` (mode 0600).
    pub fn create(dir: &Path) -> io::Result<Throwaway> {
        let ca_key = KeyPair::generate().map_err(other)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(other)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca.distinguished_name
            .push(DnType::CommonName, "tapline throwaway test CA");
        let ca_cert = ca.self_signed(&ca_key).map_err(other)?;

        let key = KeyPair::generate().map_err(other)?;
        let mut server =
            CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).map_err(other)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        // Python 3.13's default `VERIFY_X509_STRICT` refuses a certificate without it.
        server.use_authority_key_identifier_extension = true;
        let issuer = Issuer::new(ca, ca_key);
        let server_cert = server.signed_by(&key, &issuer).map_err(other)?;

        fs::create_dir_all(dir)?;
        let ca_pem_path = dir.join("cert.pem");
        fs::write(&ca_pem_path, ca_cert.pem())?;
        fs::write(
            dir.join("server.pem"),
            format!("{}{}", server_cert.pem(), ca_cert.pem()),
        )?;
        write_private(&dir.join("key.pem"), key.serialize_pem().as_bytes())?;
        Ok(Throwaway {
            ca_pem_path,
            chain: vec![server_cert.der().clone(), ca_cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    /// The authority's certificate file: the CA bundle a client trusts.
    pub fn cert_pem(&self) -> &Path {
        &self.ca_pem_path
    }

    fn server_config(&self) -> io::Result<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(other)?
            .with_no_client_auth()
            .with_single_cert(
                self.chain.clone(),
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )
            .map_err(other)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// Serves `app` over HTTPS on an already bound listener until the process ends.
pub async fn serve(listener: TcpListener, app: axum::Router, tls: &Throwaway) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let config = RustlsConfig::from_config(Arc::new(tls.server_config()?));
    axum_server::from_tcp_rustls(listener, config)
        .serve(app.into_make_service())
        .await
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    fs::write(path, bytes)
}

fn other(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::other(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_client_trusting_the_bundle_gets_an_answer_over_https() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tls = Throwaway::create(dir.path()).expect("certificates");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let app = axum::Router::new().route("/hello", axum::routing::get(|| async { "hi" }));
        let server = tokio::spawn(async move { serve(listener, app, &tls).await });

        let bundle = fs::read(dir.path().join("cert.pem")).expect("bundle");
        let trusted = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&bundle).expect("pem"))
            .build()
            .expect("client");
        for host in ["localhost", "127.0.0.1"] {
            let body = trusted
                .get(format!("https://{host}:{port}/hello"))
                .send()
                .await
                .expect("https request")
                .text()
                .await
                .expect("body");
            assert_eq!(body, "hi");
        }
        let untrusted = reqwest::Client::new()
            .get(format!("https://localhost:{port}/hello"))
            .send()
            .await;
        assert!(
            untrusted.is_err(),
            "a client without the bundle must refuse"
        );
        server.abort();
    }

    #[test]
    fn the_key_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        Throwaway::create(dir.path()).expect("certificates");
        let mode = fs::metadata(dir.path().join("key.pem"))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
