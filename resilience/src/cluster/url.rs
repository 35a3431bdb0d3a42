//! Redis URLs as they may be shown: without their password. Every error, log line,
//! `Debug` output and health report of the cluster layer shows a URL through
//! [`redact`], so `redis://app:hunter2@db:6379` reads `redis://app:***@db:6379`.

/// `text` with the secret of every URL in it replaced by `***`: the password of
/// `scheme://user:password@host` (a lone `scheme://secret@host` is taken for a password
/// too, as a user often writes it so), and a `pass=`/`password=` query value. Text that
/// is not a URL comes back as it was.
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        // The URL runs to the next space or quote; its authority to the first `/?#`.
        let url_end = after
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '`')
            .unwrap_or(after.len());
        let (url, tail) = after.split_at(url_end);
        let auth_end = url.find(['/', '?', '#']).unwrap_or(url.len());
        let (authority, path) = url.split_at(auth_end);
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str("***"),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        out.push_str(&redact_query(path));
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// `pass=` and `password=` values of a URL's query replaced by `***`.
fn redact_query(path: &str) -> String {
    let Some(q) = path.find('?') else {
        return path.to_owned();
    };
    let (head, query) = path.split_at(q + 1);
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _))
                if k.eq_ignore_ascii_case("pass") || k.eq_ignore_ascii_case("password") =>
            {
                format!("{k}=***")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{head}{}", pairs.join("&"))
}

/// The secrets `url` carries (its password as written and percent-decoded), to scrub
/// from a client's error text, which might quote them.
fn secrets(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(at) = url.find("://") {
        let after = &url[at + 3..];
        let authority = &after[..after.find(['/', '?', '#']).unwrap_or(after.len())];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            let secret = userinfo.split_once(':').map_or(userinfo, |(_, p)| p);
            found.push(secret.to_owned());
            found.push(percent_decode(secret));
        }
        for pair in after.split(['?', '&']).skip(1) {
            if let Some((k, v)) = pair.split_once('=') {
                if k.eq_ignore_ascii_case("pass") || k.eq_ignore_ascii_case("password") {
                    found.push(v.to_owned());
                    found.push(percent_decode(v));
                }
            }
        }
    }
    // Too short to scrub without mangling the text around it (`a`), and no secret.
    found.retain(|s| s.len() >= 3);
    found
}

/// A client's error `reason` about `url`, with every URL redacted and `url`'s secrets
/// replaced by `***` wherever they appear.
pub(crate) fn scrub(reason: &str, url: &str) -> String {
    let mut out = redact(reason);
    for secret in secrets(url) {
        out = out.replace(&secret, "***");
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_loses_its_password() {
        let cases = [
            (
                "redis://:topsecret@127.0.0.1:6379",
                "redis://:***@127.0.0.1:6379",
            ),
            (
                "redis://app:topsecret@db:6379/2",
                "redis://app:***@db:6379/2",
            ),
            (
                "rediss://app:top%40secret@db:6380/",
                "rediss://app:***@db:6380/",
            ),
            ("redis://topsecret@db", "redis://***@db"),
            ("redis://db:6379/0", "redis://db:6379/0"),
            (
                "redis+unix:///tmp/r.sock?db=1&pass=topsecret",
                "redis+unix:///tmp/r.sock?db=1&pass=***",
            ),
            (
                "invalid `redis://:p@ss:w0rd@h:1`: bad",
                "invalid `redis://:***@h:1`: bad",
            ),
            ("not a url", "not a url"),
            ("", ""),
        ];
        for (url, shown) in cases {
            assert_eq!(redact(url), shown, "{url}");
        }
    }

    #[test]
    fn a_clients_error_loses_the_secret_wherever_it_is() {
        let url = "redis://app:top%40secret@db";
        let reason = "auth failed for top@secret (top%40secret) at redis://app:top%40secret@db";
        let scrubbed = scrub(reason, url);
        assert!(!scrubbed.contains("secret"), "{scrubbed}");
        assert!(scrubbed.contains("redis://app:***@db"), "{scrubbed}");
    }

    #[test]
    fn odd_text_never_panics() {
        for text in [
            "://",
            "a://@",
            "x://:@",
            "%",
            "redis://%zz:%4@h",
            "é://ü:ö@ä",
        ] {
            let _ = redact(text);
            let _ = scrub(text, text);
        }
    }
}
