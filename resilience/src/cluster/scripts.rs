//! The Lua scripts the cluster runs in Redis, each one atomic, each touching keys of one
//! hash tag only (`{cb:NAME}`, `{rl:NAME}`, `{rb:NAME}`, `{rs}`), so they also run on Redis Cluster.
//! Time is always the server's (`TIME`), so instances never compare their own clocks.

use std::sync::LazyLock;

use redis::Script;

/// The key `part` (`votes`, `open`, `trial`) of the cluster breaker `name`: all three
/// share the hash tag `{cb:NAME}`, so a script on them touches one slot.
pub(super) fn breaker_key(name: &str, part: &str) -> String {
    format!("{{cb:{name}}}:{part}")
}

/// The server's time in milliseconds, as a Lua prelude.
macro_rules! now_ms {
    () => {
        "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    };
}

/// GCRA admission. `KEYS[1]` = `{rl:NAME}` (the theoretical arrival time, in server
/// microseconds); `ARGV[1]` = the emission interval `per / limit` in µs, `ARGV[2]` = the
/// burst tolerance `burst * interval` in µs, `ARGV[3]` = the call's cost in units (1 when
/// absent; the call takes `cost * interval`). Returns `{1, 0, repaired}` when admitted,
/// `{0, µs, repaired}` with the wait until the call would be admitted when refused;
/// `repaired` is 1 when the key held a value this script never writes (another type, not
/// a number, `nan`, `inf`, or beyond `now + burst + interval`), which it then treats as
/// missing (expired) and overwrites.
pub const GCRA_LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local cost = tonumber(ARGV[3]) or 1
local repaired = 0
local tat = now
local raw = redis.pcall('GET', KEYS[1])
if type(raw) == 'table' then
  redis.call('DEL', KEYS[1])
  repaired = 1
elseif raw then
  local v = tonumber(raw)
  if v == nil or v ~= v or v > now + tau + interval + 1000000 then
    repaired = 1
  elseif v > now then
    tat = v
  end
end
local new_tat = tat + interval * cost
local allow_at = new_tat - tau
if allow_at > now then
  return {0, allow_at - now, repaired}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.floor((new_tat - now) / 1000) + 1)
return {1, 0, repaired}
";

pub(super) static GCRA: LazyLock<Script> = LazyLock::new(|| Script::new(GCRA_LUA));

/// A Lua prelude: `own(key, kind)` deletes `key` when it holds another type than `kind`
/// (a value this crate never writes there) and says so (1).
macro_rules! own {
    () => {
        "local function own(key, kind)\n  local t = redis.call('TYPE', key).ok\n  if t ~= 'none' and t ~= kind then redis.call('DEL', key) return 1 end\n  return 0\nend\n"
    };
}

/// A heartbeat: `KEYS[1]` = `{rs}:instances` (instance → expiry), `KEYS[2]` =
/// `{rs}:health` (instance → health JSON); `ARGV` = id, ttl ms, JSON. Drops the
/// instances whose heartbeat expired; returns how many are live.
pub(super) static HEARTBEAT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        now_ms!(),
        own!(),
        r"
own(KEYS[1], 'zset')
own(KEYS[2], 'hash')
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, id in ipairs(dead) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
end
return redis.call('ZCARD', KEYS[1])
"
    ))
});

/// Every live instance's health: `{id, json, id, json, ..}`.
pub(super) static LIVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        now_ms!(),
        own!(),
        r"
own(KEYS[1], 'zset')
own(KEYS[2], 'hash')
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
  local h = redis.call('HGET', KEYS[2], id)
  if h then
    table.insert(out, id)
    table.insert(out, h)
  end
end
return out
"
    ))
});

/// An instance's vote that a breaker is open. `KEYS` = `{cb:N}:votes`, `{cb:N}:open`;
/// `ARGV` = id, vote ttl ms, quorum, open ms, channel, name, refresh (1: only keep the
/// vote alive, never open), longest open ms. Returns `{live votes, state, repaired}`:
/// state 0 below quorum, the milliseconds left when the cluster was already open, -1
/// when this vote opened it (and it was published); repaired 1 when a key held what this
/// crate never writes (another type, a vote expiring beyond the vote ttl, an opening
/// longer than the longest open period the configuration gives), which is dropped.
pub(super) static VOTE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        now_ms!(),
        own!(),
        r"
local repaired = own(KEYS[1], 'zset')
if redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. (now + tonumber(ARGV[2]) + 1000), '+inf') > 0 then
  repaired = 1
end
if redis.call('PTTL', KEYS[2]) > tonumber(ARGV[8]) + 1000 then
  redis.call('DEL', KEYS[2])
  repaired = 1
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local n = redis.call('ZCARD', KEYS[1])
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then return {n, ttl, repaired} end
if ARGV[7] == '1' or n < tonumber(ARGV[3]) then return {n, 0, repaired} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[4])
redis.call('PUBLISH', ARGV[5], 'open ' .. ARGV[4] .. ' ' .. ARGV[1] .. ' ' .. ARGV[6])
return {n, -1, repaired}
"
    ))
});

/// A trial in a cluster opening failed: open again everywhere. `KEYS` = votes, open,
/// trial; `ARGV` = id, vote ttl ms, open ms, channel, name.
pub(super) static REOPEN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        now_ms!(),
        own!(),
        r"
own(KEYS[1], 'zset')
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
redis.call('DEL', KEYS[3])
redis.call('PUBLISH', ARGV[4], 'open ' .. ARGV[3] .. ' ' .. ARGV[1] .. ' ' .. ARGV[5])
return 1
"
    ))
});

/// A breaker closed (a trial succeeded, or a reset): `KEYS` = votes, open, trial;
/// `ARGV` = id, channel, name.
pub(super) static CLOSE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('PUBLISH', ARGV[2], 'close 0 ' .. ARGV[1] .. ' ' .. ARGV[3])
return 1
",
    )
});

/// The half-open lease: `KEYS` = trial, open; `ARGV` = id, lease ms, longest open ms.
/// Returns `{1, ms}` when this instance took it, `{2, ms}` when it already holds it,
/// `{0, ms}` when the trial must wait that long (the cluster is still open, or another
/// instance holds it). A lease or an opening longer than this crate ever sets (or a
/// lease of another type) is not this crate's: dropped.
pub(super) static LEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        own!(),
        r"
if own(KEYS[1], 'string') == 0 and redis.call('PTTL', KEYS[1]) > tonumber(ARGV[2]) + 1000 then
  redis.call('DEL', KEYS[1])
end
if redis.call('PTTL', KEYS[2]) > tonumber(ARGV[3]) + 1000 then redis.call('DEL', KEYS[2]) end
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('DEL', KEYS[1]) end
local open = redis.call('PTTL', KEYS[2])
if open > 0 then return {0, open} end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, tonumber(ARGV[2])} end
if redis.call('GET', KEYS[1]) == ARGV[1] then return {2, redis.call('PTTL', KEYS[1])} end
return {0, redis.call('PTTL', KEYS[1])}
"
    ))
});

/// A retry budget's lease: `KEYS[1]` = `{rb:NAME}` (a hash: `t` micro-tokens, `ts` the
/// server's ms of the last refill; a missing key is a full bucket); `ARGV` = capacity
/// (whole tokens), refill (micro-tokens a second), tokens wanted, deposit (micro-tokens).
/// Refills, adds the deposit (both capped at capacity), then takes up to the tokens
/// wanted, whole ones only. Returns `{tokens taken, repaired}`. With a refill, the key
/// expires once it would be full again. A key of another type, or a count or time this
/// script never writes (not a number, `nan`, `inf`, below 0, above capacity, in the
/// future), is treated as missing (a full bucket, as after expiry): `repaired` = 1.
pub(super) static BUDGET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        now_ms!(),
        own!(),
        r"
local cap = tonumber(ARGV[1]) * 1000000
local rate = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local repaired = own(KEYS[1], 'hash')
local v = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(v[1])
local last = tonumber(v[2])
if (v[1] or v[2]) and (tokens == nil or last == nil or tokens ~= tokens or last ~= last
    or tokens < 0 or tokens > cap or last < 0 or last > now + 1000) then
  repaired = 1
  tokens = nil
end
if tokens == nil or last == nil then
  tokens = cap
  last = now
end
if now > last then tokens = tokens + (now - last) * rate / 1000 end
tokens = math.min(cap, tokens + tonumber(ARGV[4]))
local take = math.min(want, math.floor(tokens / 1000000))
tokens = tokens - take * 1000000
redis.call('HSET', KEYS[1], 't', string.format('%.0f', tokens), 'ts', now)
if rate > 0 then
  redis.call('PEXPIRE', KEYS[1], math.floor((cap - tokens) * 1000 / rate) + 1000)
else
  redis.call('PERSIST', KEYS[1])
end
return {take, repaired}
"
    ))
});

#[cfg(test)]
mod tests {
    /// Redis Cluster's slot of `key`: CRC16 (XMODEM) of its hash tag (the text between
    /// the first `{` and the next `}`, when not empty), or of the whole key, mod 16384.
    fn slot(key: &str) -> u16 {
        let bytes = key.as_bytes();
        let tagged = bytes.iter().position(|&b| b == b'{').and_then(|open| {
            let close = bytes[open + 1..].iter().position(|&b| b == b'}')?;
            (close > 0).then(|| &bytes[open + 1..open + 1 + close])
        });
        let mut crc: u16 = 0;
        for &b in tagged.unwrap_or(bytes) {
            crc ^= u16::from(b) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ 0x1021
                } else {
                    crc << 1
                };
            }
        }
        crc % 16384
    }

    #[test]
    fn the_slot_function_is_redis_clusters() {
        // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(slot("123456789"), 0x31C3); // CRC16 of "123456789", below 16384
        assert_eq!(slot("foo"), 12182);
        assert_eq!(slot("{user1000}.following"), slot("{user1000}.followers"));
    }

    /// Every script's keys, as the code builds them, map to one slot, whatever the name.
    #[test]
    fn every_scripts_keys_keep_to_one_slot() {
        let names = [
            "orders",
            "a.b-c",
            "x}y",
            "{z",
            "}",
            "{",
            "",
            "with space",
            "ünï",
            "a{b}c",
        ];
        for name in names {
            let breaker = ["votes", "open", "trial"].map(|part| super::breaker_key(name, part));
            let heartbeat = [
                "{rs}:instances".to_owned(),
                "{rs}:health".to_owned(),
                format!("{{rs}}:report:{name}"),
            ];
            for keys in [&breaker[..], &heartbeat[..]] {
                let slots: Vec<u16> = keys.iter().map(|k| slot(k)).collect();
                assert!(
                    slots.windows(2).all(|w| w[0] == w[1]),
                    "{keys:?}: {slots:?}"
                );
            }
        }
    }
}
