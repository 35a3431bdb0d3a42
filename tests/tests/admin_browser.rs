//! The operator's page in a real browser: Debian's headless `chromium`, driven over
//! WebDriver (`chromedriver`, through fantoccini), against the admin example's service on
//! 127.0.0.1. Each breaker's, bulkhead's, rate limiter's and adaptive limit's card shows
//! its state; the breaker's card changes color when the breaker opens while the page is
//! open (the event pushed over `/events`); its `reset` button asks for the token and
//! closes it. A screenshot of the page goes to `docs/admin-page.png`.
//!
//! `cargo test -p resilience-tests --features admin-browser --test admin_browser`. Outside
//! CI, without `chromium` and `chromedriver` on the PATH, it says so and passes; under CI
//! (`CI` set) their absence is a failure (`.ci/run` installs them). Nothing leaves
//! 127.0.0.1: the browser's proxy is a closed loopback port, so any other address fails.

#[path = "../../examples/admin.rs"]
#[allow(dead_code)]
mod example;

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use resilience::{registry, BreakerState};
use resilience_tests::redis_server::free_port;
use serde_json::json;

const TOKEN: &str = "browser-test-token";
/// The longest any one wait of the test lasts.
const WAIT: Duration = Duration::from_secs(20);

/// `chromedriver` in a process group of its own, with the browser it starts: the whole
/// group is ended (and chromedriver reaped) when dropped, also when the test panics, so
/// no browser outlives the test.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

fn main() {
    let (Some(chromium), Some(chromedriver)) = (on_path("chromium"), on_path("chromedriver"))
    else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "admin_browser: `chromium` and `chromedriver` must be on the PATH in CI \
                 (.ci/run installs the Debian packages `chromium` and `chromium-driver`)"
            );
        }
        println!(
            "admin_browser: SKIPPED: `chromium` or `chromedriver` is not on the PATH \
             (install Debian's `chromium` and `chromium-driver` to run it)"
        );
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let port = free_port().expect("a free port for chromedriver");
    let driver = Driver(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < WAIT,
            "chromedriver listens within {WAIT:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(scenario(&chromium, port))
    }));
    drop(driver);
    let result = result.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => println!("admin_browser: ok"),
        Err(e) => panic!("admin_browser: {e}"),
    }
}

async fn scenario(
    chromium: &Path,
    driver_port: u16,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let addr = example::serve(([127, 0, 0, 1], 0).into(), Some(TOKEN.into())).await?;
    // Every card has an instance behind it.
    example::kanban(false).await?;
    example::upload().await?;
    example::complete().await?;
    example::search().await?;

    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,860", "--no-first-run", "--no-default-browser-check",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--disable-extensions",
                // Loopback goes direct; anything else to a closed port, so it fails.
                "--proxy-server=127.0.0.1:9",
            ],
        }),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await?;
    let outcome = drive(&client, addr).await;
    client.close().await?;
    outcome
}

/// The card's state and the color its badge shows it in (the border follows it after a
/// short transition).
async fn card(
    client: &Client,
    card: &str,
) -> Result<(String, String), Box<dyn std::error::Error + Send + Sync>> {
    let found = client
        .execute(
            "const c = document.querySelector(`[data-card=\"${arguments[0]}\"]`);
             return c ? [c.dataset.state || '', getComputedStyle(c.querySelector('.badge')).backgroundColor] : null;",
            vec![json!(card)],
        )
        .await?;
    match found.as_array().map(Vec::as_slice) {
        Some([state, color]) => Ok((
            state.as_str().unwrap_or_default().to_owned(),
            color.as_str().unwrap_or_default().to_owned(),
        )),
        _ => Ok((String::new(), String::new())),
    }
}

/// Waits (at most [`WAIT`]) for `card` to show `state`; its color then.
async fn until_state(
    client: &Client,
    name: &str,
    state: &str,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let started = Instant::now();
    loop {
        let (shown, color) = card(client, name).await?;
        if shown == state {
            return Ok(color);
        }
        if started.elapsed() > WAIT {
            return Err(
                format!("card {name} shows {shown:?}, not {state:?}, after {WAIT:?}").into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn drive(
    client: &Client,
    addr: std::net::SocketAddr,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    client.goto(&format!("http://{addr}/admin")).await?;
    let closed = until_state(client, "breaker:kanban", "closed").await?;
    for other in [
        "bulkhead:uploads",
        "rate_limit:openai",
        "adaptive_limit:search",
    ] {
        until_state(client, other, "idle").await?;
    }
    // The page is live on the stream: wait until it says so, then open the breaker.
    let started = Instant::now();
    while !client
        .execute("return window.resilienceLive === true;", vec![])
        .await?
        .as_bool()
        .unwrap_or(false)
    {
        if started.elapsed() > WAIT {
            return Err("the page never connected to /events".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..3 {
        assert!(example::kanban(true).await.is_err());
    }
    assert_eq!(
        registry().breaker("kanban").expect("registered").state(),
        BreakerState::Open
    );
    let open = until_state(client, "breaker:kanban", "open").await?;
    assert_ne!(open, closed, "the card changes color as the breaker opens");
    // A refused call, and the counts the page reads from /health after an event.
    assert!(example::kanban(false).await.is_err());
    let started = Instant::now();
    loop {
        let text = client
            .find(Locator::Css("[data-card=\"breaker:kanban\"] .stats"))
            .await?
            .text()
            .await?;
        if text.contains("opened 1") && text.contains("refused 1") {
            break;
        }
        if started.elapsed() > WAIT {
            return Err(format!("the card's counts never caught up: {text}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = client
        .find(Locator::Css("#log tbody"))
        .await?
        .text()
        .await?;
    assert!(
        log.contains("closed → open"),
        "the event is in the page's log: {log}"
    );

    let screenshot = client.screenshot().await?;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/admin-page.png");
    std::fs::write(&path, &screenshot)?;
    println!("admin_browser: screenshot in {}", path.display());

    // The guarded button: the page asks for the token, and the breaker closes.
    client
        .find(Locator::Css(
            "[data-card=\"breaker:kanban\"] button[data-action=\"reset\"]",
        ))
        .await?
        .click()
        .await?;
    let started = Instant::now();
    loop {
        match client.send_alert_text(TOKEN).await {
            Ok(()) => break,
            Err(_) if started.elapsed() < WAIT => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => return Err(format!("no prompt for the token: {e}").into()),
        }
    }
    client.accept_alert().await?;
    until_state(client, "breaker:kanban", "closed").await?;
    assert_eq!(
        registry().breaker("kanban").expect("registered").state(),
        BreakerState::Closed
    );

    // Nothing was fetched from anywhere but the service itself.
    let origins = client
        .execute(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin)
                 .filter(o => o !== location.origin);",
            vec![],
        )
        .await?;
    assert_eq!(origins, json!([]), "the page fetched from elsewhere");
    Ok(())
}
