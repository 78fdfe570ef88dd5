//! The listeners on 127.0.0.1 and the runtime thread that serves them.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::tls::{self, Throwaway};

/// Where and how to serve.
#[derive(Debug, Clone, Default)]
pub struct Listen {
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Serve HTTPS with a throwaway certificate authority written into this folder.
    pub tls_dir: Option<PathBuf>,
    /// Also serve the same app over plain HTTP on another free port.
    pub also_http: bool,
}

/// Bound listeners that do not serve yet: their URLs are known, so an app can link to itself.
#[derive(Debug)]
pub struct Bound {
    main: TcpListener,
    plain: Option<TcpListener>,
    tls: Option<Throwaway>,
}

impl Bound {
    /// Binds the listeners of `listen` and, with a TLS folder, writes the certificates there.
    pub fn bind(listen: &Listen) -> io::Result<Bound> {
        let tls = listen
            .tls_dir
            .as_deref()
            .map(|dir| {
                Throwaway::create(dir).map_err(|e| {
                    let at = dir.display();
                    io::Error::new(e.kind(), format!("writing a certificate into {at}: {e}"))
                })
            })
            .transpose()?;
        let main = bind(listen.port)?;
        let plain = listen.also_http.then(|| bind(0)).transpose()?;
        Ok(Bound { main, plain, tls })
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    pub fn url(&self) -> io::Result<String> {
        Ok(format!("{}://{}", self.scheme(), self.main.local_addr()?))
    }

    /// Serves on a runtime thread of its own the app `app(scheme)` builds for each listener
    /// (`https` or `http`), until the returned handle is dropped.
    pub fn serve(self, mut app: impl FnMut(&'static str) -> axum::Router) -> io::Result<Server> {
        let scheme = self.scheme();
        let addr = self.main.local_addr()?;
        let plain_addr = self.plain.as_ref().map(|l| l.local_addr()).transpose()?;
        let main_app = app(scheme);
        let plain = self.plain.map(|l| (l, app("http")));
        let tls = self.tls;
        let main = self.main;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fake-serve")
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("fake-serve".into())
            .spawn(move || {
                let served = runtime.block_on(async move {
                    let main = async move {
                        match &tls {
                            Some(tls) => tls::serve(main, main_app, tls).await,
                            None => serve_plain(main, main_app).await,
                        }
                    };
                    let plain = async move {
                        match plain {
                            Some((listener, app)) => serve_plain(listener, app).await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        served = main => served,
                        served = plain => served,
                        _ = stopped => Ok(()),
                    }
                });
                if let Err(e) = served {
                    tracing::error!("serving {addr}: {e}");
                }
                runtime.shutdown_timeout(Duration::from_millis(200));
            })?;
        Ok(Server {
            addr,
            scheme,
            plain: plain_addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// An app served on 127.0.0.1 by a thread of its own; dropping it stops the server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    scheme: &'static str,
    plain: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Binds as `listen` says and serves `app(scheme)` on each listener (see [`Bound::serve`]).
    pub fn start(
        listen: &Listen,
        app: impl FnMut(&'static str) -> axum::Router,
    ) -> io::Result<Server> {
        Bound::bind(listen)?.serve(app)
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// `http://127.0.0.1:PORT` of the plain sibling, if asked for.
    pub fn plain_url(&self) -> Option<String> {
        self.plain.map(|a| format!("http://{a}"))
    }

    /// The main listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn bind(port: u16) -> io::Result<TcpListener> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| io::Error::new(e.kind(), format!("binding 127.0.0.1:{port}: {e}")))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

async fn serve_plain(listener: TcpListener, app: axum::Router) -> io::Result<()> {
    axum::serve(tokio::net::TcpListener::from_std(listener)?, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(scheme: &'static str) -> axum::Router {
        axum::Router::new().route("/hello", axum::routing::get(move || async move { scheme }))
    }

    async fn get(client: &reqwest::Client, url: &str) -> reqwest::Result<String> {
        client
            .get(format!("{url}/hello"))
            .send()
            .await?
            .text()
            .await
    }

    #[tokio::test]
    async fn serves_plain_http_until_dropped() {
        let server = Server::start(&Listen::default(), hello).expect("server");
        let url = server.url();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        assert_eq!(server.plain_url(), None);
        let client = reqwest::Client::new();
        assert_eq!(get(&client, &url).await.expect("answer"), "http");
        drop(server);
        let fresh = reqwest::Client::new();
        assert!(
            get(&fresh, &url).await.is_err(),
            "a dropped server must stop"
        );
    }

    #[tokio::test]
    async fn serves_https_with_a_plain_sibling_of_the_same_app() {
        let dir = tempfile::tempdir().expect("tempdir");
        let listen = Listen {
            port: 0,
            tls_dir: Some(dir.path().to_owned()),
            also_http: true,
        };
        let bound = Bound::bind(&listen).expect("bound");
        let url = bound.url().expect("url");
        let server = bound.serve(hello).expect("server");
        assert_eq!(server.url(), url);
        assert!(url.starts_with("https://127.0.0.1:"), "{url}");
        let bundle = std::fs::read(dir.path().join("cert.pem")).expect("bundle");
        let trusted = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&bundle).expect("pem"))
            .build()
            .expect("client");
        assert_eq!(get(&trusted, &url).await.expect("https answer"), "https");
        let plain = server.plain_url().expect("a plain sibling");
        assert_ne!(plain, url.replace("https", "http"));
        let answer = get(&reqwest::Client::new(), &plain).await;
        assert_eq!(answer.expect("plain answer"), "http");
    }
}
