//! A deterministic Singer stream of GitHub-commit-shaped records (about 1 KB each), shared by
//! the load benchmark.

use std::io::{self, Write};

/// The SCHEMA message of the `commits` stream.
pub const SCHEMA: &str = r#"{"type":"SCHEMA","stream":"commits","key_properties":["sha"],"schema":{"type":"object","properties":{
"sha":{"type":"string"},"node_id":{"type":"string"},"_sdc_repository":{"type":"string"},
"commit":{"type":"object","properties":{
 "author":{"type":["null","object"],"properties":{"name":{"type":["null","string"]},"email":{"type":["null","string"]},"date":{"type":"string","format":"date-time"}}},
 "committer":{"type":["null","object"],"properties":{"name":{"type":["null","string"]},"email":{"type":["null","string"]},"date":{"type":"string","format":"date-time"}}},
 "message":{"type":"string"},"url":{"type":"string"},"comment_count":{"type":"integer"},
 "tree":{"type":"object","properties":{"sha":{"type":"string"},"url":{"type":"string"}}},
 "verification":{"type":["null","object"],"properties":{"verified":{"type":"boolean"},"reason":{"type":"string"},"signature":{"type":["null","string"]},"payload":{"type":["null","string"]}}}}},
"url":{"type":"string"},"html_url":{"type":"string"},"comments_url":{"type":"string"},
"author":{"anyOf":[{"type":"null"},{"type":"object","properties":{"login":{"type":"string"},"id":{"type":"integer"},"node_id":{"type":"string"},"avatar_url":{"type":"string"},"html_url":{"type":"string"},"type":{"type":"string"},"site_admin":{"type":"boolean"}}}]},
"committer":{"anyOf":[{"type":"null"},{"type":"object","properties":{"login":{"type":"string"},"id":{"type":"integer"},"node_id":{"type":"string"},"avatar_url":{"type":"string"},"html_url":{"type":"string"},"type":{"type":"string"},"site_admin":{"type":"boolean"}}}]},
"parents":{"type":"array","items":{"type":"object","properties":{"sha":{"type":"string"},"url":{"type":"string"}}}}}}}"#;

/// Writes `records` RECORD messages after the SCHEMA, with a STATE every `state_every` records
/// and one at the end.
pub fn write_stream(out: &mut impl Write, records: u64, state_every: u64) -> io::Result<()> {
    writeln!(out, "{}", SCHEMA.replace('\n', ""))?;
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    for i in 0..records {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let sha = format!("{:016x}{:024x}", i, rng & 0xffff_ffff_ffff);
        let user = rng % 50;
        let day = 1 + i % 28;
        let month = 1 + (i / 28) % 12;
        let year = 2019 + (i / 336) % 6;
        let date = format!(
            "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            rng % 24,
            rng % 60,
            (rng >> 8) % 60
        );
        let person = || {
            if rng.is_multiple_of(7) {
                "null".to_string()
            } else {
                format!(
                    r#"{{"login":"user{user}","id":{},"node_id":"MDQ6VXNlcj{user}","html_url":"https://github.com/user{user}","type":"User","site_admin":false}}"#,
                    1000 + user
                )
            }
        };
        writeln!(
            out,
            r#"{{"type":"RECORD","stream":"commits","time_extracted":"2026-11-25T00:00:00Z","record":{{"sha":"{sha}","node_id":"C_kwDOA{i:08}","_sdc_repository":"octo/app","commit":{{"author":{{"name":"User {user}","email":"user{user}@example.com","date":"{date}"}},"committer":{{"name":"User {user}","email":"user{user}@example.com","date":"{date}"}},"message":"Fix #{i}: handle \"quoted\" input\n\nSigned-off-by: User {user} <user{user}@example.com> — ✓","comment_count":{},"tree":{{"sha":"{sha}"}},"verification":{{"verified":false,"reason":"unsigned","signature":null,"payload":null}}}},"url":"https://api.github.com/repos/octo/app/commits/{sha}","html_url":"https://github.com/octo/app/commit/{sha}","author":{},"committer":{},"parents":[{{"sha":"{:040x}","url":"https://api.github.com/repos/octo/app/commits/{:040x}"}}]}}}}"#,
            rng % 3,
            person(),
            person(),
            i.wrapping_sub(1),
            i.wrapping_sub(1),
        )?;
        if (i + 1).is_multiple_of(state_every) {
            writeln!(
                out,
                r#"{{"type":"STATE","value":{{"bookmarks":{{"commits":{{"records":{}}}}}}}}}"#,
                i + 1
            )?;
        }
    }
    writeln!(
        out,
        r#"{{"type":"STATE","value":{{"bookmarks":{{"commits":{{"records":{records}}}}}}}}}"#
    )
}
