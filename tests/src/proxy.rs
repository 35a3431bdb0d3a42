//! A small TCP proxy on 127.0.0.1 between a test's instances and its Redis, to make
//! partitions: cut (every connection closed, new ones refused), black hole (connections
//! stay open, nothing flows either way: what a dead link looks like to TCP), delay
//! (every chunk held a while before it is passed on), and pub/sub only (a black hole
//! for the connections that sent `SUBSCRIBE`, the others untouched). Threads only, every
//! loop bounded by the proxy's life; stopped when dropped.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the proxy does to the traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Passes everything.
    Pass,
    /// Closes every connection and refuses new ones.
    Cut,
    /// Keeps connections open and passes nothing (the bytes wait in the kernel's
    /// buffers, as behind a link that drops packets, and flow again after).
    BlackHole,
    /// Holds every chunk this long before passing it on.
    Delay(Duration),
    /// A black hole for pub/sub connections only.
    PubSubBlackHole,
}

struct State {
    mode: Mutex<Mode>,
    stop: AtomicBool,
    conns: Mutex<Vec<TcpStream>>,
    /// Bumped on every cut, so the pumps of older connections end.
    epoch: AtomicU64,
}

/// A proxy from a free loopback port to `127.0.0.1:target`.
pub struct Proxy {
    port: u16,
    state: Arc<State>,
    acceptor: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts one in [`Mode::Pass`].
    pub fn start(target: u16) -> Result<Proxy, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let state = Arc::new(State {
            mode: Mutex::new(Mode::Pass),
            stop: AtomicBool::new(false),
            conns: Mutex::new(Vec::new()),
            epoch: AtomicU64::new(0),
        });
        let s = state.clone();
        let acceptor = std::thread::spawn(move || {
            while !s.stop.load(SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        if s.mode() == Mode::Cut {
                            let _ = client.shutdown(Shutdown::Both);
                            continue;
                        }
                        if let Ok(server) = TcpStream::connect(("127.0.0.1", target)) {
                            connect(&s, client, server);
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Ok(Proxy {
            port,
            state,
            acceptor: Some(acceptor),
        })
    }

    /// The proxy's URL (`redis://127.0.0.1:PORT/`).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Switches the mode; [`Mode::Cut`] closes every open connection at once.
    pub fn set(&self, mode: Mode) {
        *self.state.mode.lock().unwrap_or_else(|p| p.into_inner()) = mode;
        if mode == Mode::Cut {
            self.state.epoch.fetch_add(1, SeqCst);
            for conn in self
                .state
                .conns
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .drain(..)
            {
                let _ = conn.shutdown(Shutdown::Both);
            }
        }
    }
}

impl State {
    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Pumps both ways between a client and the server, in two threads.
fn connect(state: &Arc<State>, client: TcpStream, server: TcpStream) {
    let epoch = state.epoch.load(SeqCst);
    let pubsub = Arc::new(AtomicBool::new(false));
    {
        let mut conns = state.conns.lock().unwrap_or_else(|p| p.into_inner());
        for s in [&client, &server] {
            if let Ok(c) = s.try_clone() {
                conns.push(c);
            }
        }
    }
    let pairs = [
        (client.try_clone(), server.try_clone(), true),
        (server.try_clone(), client.try_clone(), false),
    ];
    for (from, to, upstream) in pairs {
        let (Ok(from), Ok(to)) = (from, to) else {
            return;
        };
        let state = state.clone();
        let pubsub = pubsub.clone();
        std::thread::spawn(move || pump(&state, epoch, from, to, upstream, &pubsub));
    }
}

fn pump(
    state: &State,
    epoch: u64,
    mut from: TcpStream,
    mut to: TcpStream,
    upstream: bool,
    pubsub: &AtomicBool,
) {
    let _ = from.set_read_timeout(Some(Duration::from_millis(5)));
    let mut buf = vec![0u8; 64 * 1024];
    while !state.stop.load(SeqCst) && state.epoch.load(SeqCst) == epoch {
        let mode = state.mode();
        let holding = match mode {
            Mode::BlackHole => true,
            Mode::PubSubBlackHole => pubsub.load(SeqCst),
            _ => false,
        };
        if holding {
            // Nothing read, nothing passed: the kernel's buffers fill up and wait.
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => break,
        };
        if upstream && !pubsub.load(SeqCst) {
            let text = String::from_utf8_lossy(&buf[..n]).to_ascii_uppercase();
            if text.contains("SUBSCRIBE") {
                pubsub.store(true, SeqCst);
            }
        }
        if let Mode::Delay(d) = mode {
            std::thread::sleep(d);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stop.store(true, SeqCst);
        self.set(Mode::Cut);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}
