//! One hall's state on the server: profile, token, change feed, decisions.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hcp_core::wire::{Decision, HallProfile};
use serde::{Deserialize, Serialize};

pub use crate::change::NewChange;
use crate::generate::GeneratedHall;

/// The hall as the server keeps it.
pub struct HallState {
    /// Served at `v1/hall`.
    pub profile: HallProfile,
    /// Bearer token.
    pub token: String,
    /// Each change pre-rendered as `{"seq":…,"kind":…,"data":…}`; seq = index + 1.
    rendered: Vec<Box<str>>,
    /// The raw parts, for state comparisons in tests.
    changes: Vec<NewChange>,
    /// Cursors of older epochs answer 410.
    epoch: u64,
    decisions: HashMap<String, Decision>,
    decision_log: Vec<Decision>,
    evaluation_ids: HashSet<String>,
    attachments: HashMap<String, Vec<u8>>,
}

/// A decoded cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// History epoch it was issued in.
    pub epoch: u64,
    /// Last seq delivered.
    pub seq: u64,
}

impl Cursor {
    /// Opaque text form.
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("hcp1:{}:{}", self.epoch, self.seq))
    }

    /// Reads the text form; `None` when it is not one of ours.
    pub fn decode(s: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.strip_prefix("hcp1:")?.split(':');
        let epoch = parts.next()?.parse().ok()?;
        let seq = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Self { epoch, seq })
    }
}

/// One page of the feed, rendered.
pub struct Page {
    /// The JSON body.
    pub body: String,
    /// Number of changes in it.
    pub count: usize,
}

/// Why a cursor cannot be served.
#[derive(Debug, PartialEq, Eq)]
pub enum CursorError {
    /// Not a cursor of this server.
    Malformed,
    /// Issued before history was cut.
    Expired,
}

/// What decisions the hall recorded, as the admin sees them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionLog {
    /// In arrival order.
    pub decisions: Vec<Decision>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<String>,
}

impl HallState {
    /// A hall from generated data.
    pub fn from_generated(g: GeneratedHall) -> Self {
        let mut s = Self {
            profile: g.profile,
            token: g.token,
            rendered: Vec::with_capacity(g.changes.len()),
            changes: Vec::with_capacity(g.changes.len()),
            epoch: 1,
            decisions: HashMap::new(),
            decision_log: vec![],
            evaluation_ids: HashSet::new(),
            attachments: g.attachments.into_iter().collect(),
        };
        for c in g.changes {
            s.append(c);
        }
        s
    }

    /// Appends a change; returns its seq.
    pub fn append(&mut self, change: NewChange) -> u64 {
        let seq = self.rendered.len() as u64 + 1;
        if change.kind == "evaluation"
            && let Ok(IdOnly { id: Some(id) }) = serde_json::from_str::<IdOnly>(&change.data)
        {
            self.evaluation_ids.insert(id);
        }
        let kind = serde_json::to_string(&change.kind).expect("a string serialises");
        self.rendered.push(
            format!(r#"{{"seq":{seq},"kind":{kind},"data":{}}}"#, change.data).into_boxed_str(),
        );
        self.changes.push(change);
        seq
    }

    /// Number of changes in the feed.
    pub fn len(&self) -> usize {
        self.rendered.len()
    }

    /// Whether the feed is empty.
    pub fn is_empty(&self) -> bool {
        self.rendered.is_empty()
    }

    /// Cuts history: every cursor issued so far answers 410 from now on.
    pub fn expire_cursors(&mut self) {
        self.epoch += 1;
    }

    /// Renders the page after `after` (None = from the beginning).
    pub fn page(&self, after: Option<&str>, limit: usize) -> Result<Page, CursorError> {
        let start = match after {
            None => 0,
            Some(text) => {
                let c = Cursor::decode(text).ok_or(CursorError::Malformed)?;
                if c.epoch != self.epoch {
                    return Err(CursorError::Expired);
                }
                if c.seq as usize > self.rendered.len() {
                    // Past the end of what this server holds (a cursor from an
                    // earlier run that had appended more, e.g. the live demo):
                    // the client starts again and keeps what it has.
                    return Err(CursorError::Expired);
                }
                c.seq as usize
            }
        };
        let end = (start + limit).min(self.rendered.len());
        let slice = &self.rendered[start..end];
        let mut body =
            String::with_capacity(slice.iter().map(|s| s.len() + 1).sum::<usize>() + 128);
        body.push_str(r#"{"changes":["#);
        for (i, c) in slice.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(c);
        }
        let next = Cursor {
            epoch: self.epoch,
            seq: end as u64,
        }
        .encode();
        body.push_str(&format!(
            r#"],"next":"{next}","more":{}}}"#,
            end < self.rendered.len()
        ));
        Ok(Page {
            body,
            count: slice.len(),
        })
    }

    /// Records decisions; a known id answers `duplicate`.
    pub fn decide(&mut self, d: Decision) -> (hcp_core::wire::DecisionStatus, Option<String>) {
        use hcp_core::wire::DecisionStatus as S;
        const KINDS: [&str; 6] = [
            "appeal_verdict",
            "rectification_accepted",
            "rectification_returned",
            "callback",
            "case_opened",
            "case_closed",
        ];
        if self.decisions.contains_key(&d.id) {
            return (S::Duplicate, None);
        }
        if !KINDS.contains(&d.kind.as_str()) {
            return (S::Rejected, Some(format!("未知的决定类型 “{}”", d.kind)));
        }
        if !self.evaluation_ids.contains(&d.evaluation_id) {
            return (
                S::Rejected,
                Some(format!("本大厅没有评价编号 “{}”", d.evaluation_id)),
            );
        }
        self.decision_log.push(d.clone());
        self.decisions.insert(d.id.clone(), d);
        (S::Accepted, None)
    }

    /// Decisions received, in order.
    pub fn decision_log(&self) -> &[Decision] {
        &self.decision_log
    }

    /// Attachment bytes.
    pub fn attachment(&self, sha256: &str) -> Option<&[u8]> {
        self.attachments.get(sha256).map(Vec::as_slice)
    }

    /// The latest revision of every record per (kind, id) among the changes that
    /// a conforming client accepts, as `(kind, id) -> (rev, data)`: what a synced
    /// cache must end up holding.
    pub fn latest_records(&self) -> BTreeMap<(String, String), (i64, String)> {
        let mut out: BTreeMap<(String, String), (i64, String)> = BTreeMap::new();
        for c in &self.changes {
            if !matches!(c.kind.as_str(), "evaluation" | "appeal" | "rectification") {
                continue;
            }
            if hcp_core::validate_change(&c.kind, &c.data, &self.profile.hall_id).is_err() {
                continue;
            }
            #[derive(Deserialize)]
            struct Key {
                id: String,
                rev: i64,
            }
            let Ok(k) = serde_json::from_str::<Key>(&c.data) else {
                continue;
            };
            let slot = out
                .entry((c.kind.clone(), k.id))
                .or_insert((0, String::new()));
            if k.rev > slot.0 {
                *slot = (k.rev, c.data.clone());
            }
        }
        out
    }

    /// Writes the hall to `dir` (profile.json, feed.jsonl, attachments/).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(dir.join("attachments"))?;
        std::fs::write(
            dir.join("profile.json"),
            serde_json::to_vec_pretty(&self.profile)?,
        )?;
        let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("feed.jsonl"))?);
        for c in &self.changes {
            // The data stays JSON (not a string of JSON) so the file reads naturally.
            let kind = serde_json::to_string(&c.kind)?;
            writeln!(f, r#"{{"kind":{kind},"data":{}}}"#, c.data)?;
        }
        f.flush()?;
        for (sha, bytes) in &self.attachments {
            std::fs::write(dir.join("attachments").join(sha), bytes)?;
        }
        Ok(())
    }

    /// Reads a hall written by [`HallState::save`].
    pub fn load(dir: &Path, token: String) -> std::io::Result<Self> {
        use std::io::BufRead;
        let bad = |e: serde_json::Error| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        let profile: HallProfile =
            serde_json::from_slice(&std::fs::read(dir.join("profile.json"))?).map_err(bad)?;
        let mut changes = vec![];
        for line in std::io::BufReader::new(std::fs::File::open(dir.join("feed.jsonl"))?).lines() {
            let line = line?;
            if !line.trim().is_empty() {
                #[derive(Deserialize)]
                struct Line<'a> {
                    kind: String,
                    #[serde(borrow)]
                    data: &'a serde_json::value::RawValue,
                }
                let l: Line<'_> = serde_json::from_str(&line).map_err(bad)?;
                changes.push(NewChange {
                    kind: l.kind,
                    data: l.data.get().to_string(),
                });
            }
        }
        let mut attachments = vec![];
        if let Ok(rd) = std::fs::read_dir(dir.join("attachments")) {
            for e in rd {
                let e = e?;
                attachments.push((
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path())?,
                ));
            }
        }
        Ok(Self::from_generated(GeneratedHall {
            profile,
            token,
            changes,
            attachments,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_foreign_text() {
        let c = Cursor {
            epoch: 3,
            seq: 1042,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("1042"), None);
        assert_eq!(Cursor::decode(""), None);
    }
}
