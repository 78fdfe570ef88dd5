//! Small deterministic helpers: a seeded PRNG, UTC timestamp formatting and parsing, and a fast
//! non-cryptographic hash for ETags. Nothing here may depend on process state, so that the same
//! seed always yields byte-identical responses.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// SplitMix64: tiny, fast and stable across platforms and crate versions (unlike `rand`'s
/// generators, whose output may change between releases).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator whose stream is fixed by `seed` and a label (e.g. the repository name).
    pub(crate) fn new(seed: u64, label: &str) -> Rng {
        Rng(seed ^ fnv1a(label.as_bytes()).rotate_left(17) ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`0` when `n == 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// True with probability `percent`/100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A uniformly chosen element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// 40 lowercase hex digits, shaped like a git object id.
    pub(crate) fn sha(&mut self) -> String {
        let mut s = String::with_capacity(40);
        for _ in 0..3 {
            s.push_str(&format!("{:016x}", self.next_u64()));
        }
        s.truncate(40);
        s
    }
}

/// FNV-1a over bytes; used for seeding only.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A 128-bit word-at-a-time hash, fast enough to run over every response body for its ETag.
pub(crate) fn etag_of(bytes: &[u8]) -> String {
    let mut a: u64 = 0x243F_6A88_85A3_08D3 ^ bytes.len() as u64;
    let mut b: u64 = 0x1319_8A2E_0370_7344;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        a = (a ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
        b = (b.wrapping_add(w))
            .wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            .rotate_left(31);
    }
    for x in chunks.remainder() {
        a = (a ^ u64::from(*x)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        b = (b.wrapping_add(u64::from(*x))).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    }
    let mut r = Rng(a ^ b.rotate_left(7));
    format!(
        "W/\"{:016x}{:016x}{:016x}{:016x}\"",
        a,
        b,
        r.next_u64(),
        r.next_u64()
    )
}

/// Formats epoch seconds as GitHub does: `2021-03-04T05:06:07Z`.
pub(crate) fn fmt_ts(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses an ISO 8601 timestamp as GitHub accepts it in `since`/`until`: full RFC 3339
/// (`2021-01-01T00:00:00Z`, offsets, fractions) or a bare date (`2021-01-01`, midnight UTC).
pub(crate) fn parse_ts(s: &str) -> Option<i64> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

/// Current wall-clock time in epoch seconds.
pub(crate) fn now_secs() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_timestamps() {
        assert_eq!(fmt_ts(0), "1970-01-01T00:00:00Z");
        assert_eq!(fmt_ts(1_546_300_800), "2019-01-01T00:00:00Z");
        assert_eq!(fmt_ts(951_782_400), "2000-02-29T00:00:00Z");
        for s in [0, 1_546_300_801, 1_748_736_000, 1_700_000_000] {
            assert_eq!(parse_ts(&fmt_ts(s)), Some(s));
        }
        assert_eq!(parse_ts("2019-01-01"), Some(1_546_300_800));
        assert_eq!(parse_ts("2019-01-01T02:00:00+02:00"), Some(1_546_300_800));
        assert_eq!(parse_ts("yesterday"), None);
    }

    #[test]
    fn rng_is_stable() {
        let mut a = Rng::new(7, "octo/app");
        let mut b = Rng::new(7, "octo/app");
        assert_eq!(a.next_u64(), b.next_u64());
        assert_eq!(a.sha().len(), 40);
        assert_ne!(
            Rng::new(8, "octo/app").next_u64(),
            Rng::new(7, "octo/app").next_u64()
        );
    }

    #[test]
    fn etag_depends_on_every_byte() {
        let bodies: [&[u8]; 6] = [b"", b"a", b"abc", b"abd", b"[1,2,3]", b"[1,2,4]"];
        let tags: std::collections::HashSet<String> = bodies.iter().map(|b| etag_of(b)).collect();
        assert_eq!(tags.len(), bodies.len(), "distinct bodies, distinct ETags");
        let long = [7u8; 64];
        let mut flipped = long;
        flipped[63] = 8;
        assert_ne!(
            etag_of(&long),
            etag_of(&flipped),
            "the last word counts too"
        );
    }

    #[test]
    fn etag_is_a_fixed_function_of_the_body() {
        // A literal, so that a change of the hash (which would turn every client's cached
        // ETag into a miss) is a deliberate one.
        assert_eq!(
            etag_of(b"abc"),
            "W/\"b58c914052765bd087287be607581dba291aaef7df536513107b6bb0f6be2013\""
        );
    }
}
