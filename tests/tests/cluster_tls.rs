//! `rediss://` (feature `redis-tls`, on rustls): a `redis-server` with `--tls-port` and a
//! certificate this test makes with `openssl` (its own authority, a server certificate
//! for 127.0.0.1), and a password. An instance trusting the authority
//! (`ClusterConfig::ca_file`) admits through Redis; one trusting only the system's
//! authorities is refused with an `Err` that shows no password.
//!
//! `cargo test -p resilience-tests --features redis-tls --test cluster_tls` (needs
//! `redis-server` built with TLS, as Debian's is, and `openssl` on the PATH).

use std::path::Path;
use std::process::Command;

use resilience_tests::redis_server::{free_port, RedisServer};

// Each cluster target uses part of what the children and scenarios share.
#[allow(dead_code)]
mod cluster_common;

use cluster_common::{main_with, Instance, OP_TIMEOUT_MS, SEC};

const PASSWORD: &str = "pw-TlsSecret-4";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl on the PATH (Debian: apt-get install -y openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An authority and a server certificate for 127.0.0.1 signed by it, in `dir`.
fn certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=resilience test authority",
            ],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

fn tls() {
    let dir = std::env::temp_dir().join(format!("resilience-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    certificates(&dir);
    let file = |name: &str| dir.join(name).display().to_string();
    let tls_port = free_port().unwrap().to_string();
    let server = RedisServer::start_with(&[
        "--tls-port",
        &tls_port,
        "--tls-cert-file",
        &file("server.crt"),
        "--tls-key-file",
        &file("server.key"),
        "--tls-ca-cert-file",
        &file("ca.crt"),
        "--tls-auth-clients",
        "no",
        "--requirepass",
        PASSWORD,
    ])
    .unwrap();
    let url = format!("rediss://:{PASSWORD}@127.0.0.1:{tls_port}/");
    // Trusting the test's authority: admitted through Redis.
    let mut a = Instance::spawn_with("a", &url, OP_TIMEOUT_MS, &[("CA_FILE", &file("ca.crt"))]);
    let admitted = a.ask("admit1 t.tls 10 1000", SEC);
    println!("    trusting the authority: {admitted}");
    assert!(
        admitted.starts_with("admitted cluster 1 local 0"),
        "{admitted}"
    );
    assert!(
        admitted.contains(&format!("rediss://:***@127.0.0.1:{tls_port}/")),
        "{admitted}"
    );
    assert!(!a.logs().join("\n").contains(PASSWORD));
    // The instance's heartbeat reached the server through its TLS port (the plain port
    // is only the test's).
    assert_eq!(server.cli(&["ZCARD", "{rs}:instances"]).unwrap(), "1");
    // Trusting only the system's authorities: refused, without the password.
    let refused = match Instance::try_spawn_with("b", &url, OP_TIMEOUT_MS, &[]) {
        Ok(_) => "it connected".to_owned(),
        Err(answer) => answer,
    };
    println!("    trusting the system's authorities only: {refused}");
    assert!(
        refused.starts_with("error Redis at `rediss://:***@127.0.0.1:"),
        "{refused}"
    );
    assert!(!refused.contains(PASSWORD));
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    main_with(&[("tls", tls)]);
}
