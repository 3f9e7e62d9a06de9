//! Reads and writes of the 12345 hotline (tickets, the dispatch directory, the knowledge base) and of ratings
//! (好差评) with their remediation.

use crate::ops::Db;
use crate::sql::{Row, Val};
use crate::StoreError;

/// A ticket's projection row.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    pub ticket_no: String,
    pub category: String,
    pub urgent: bool,
    pub channel: String,
    pub status: String,
    pub lead_unit: Option<String>,
    pub caller_account: Option<String>,
    pub content: String,
    pub location: String,
    pub received_at_ms: i64,
    pub sign_due_ms: Option<i64>,
    pub reply_due_ms: Option<i64>,
    pub replied_at_ms: Option<i64>,
    pub replied_on_time: Option<bool>,
    pub answered_directly: bool,
    pub followed_up: bool,
    pub satisfaction: Option<String>,
    pub reopen_count: i64,
    pub merged_into: Option<String>,
    pub closed_at_ms: Option<i64>,
    pub version: i64,
    /// The ticket state as JSON (caller's name and phone sealed).
    pub state: String,
}

const TICKET_COLS: &str = "ticket_no, category, urgent, channel, status, lead_unit, caller_account, content, location, received_at_ms, sign_due_ms, reply_due_ms, replied_at_ms, replied_on_time, answered_directly, followed_up, satisfaction, reopen_count, merged_into, closed_at_ms, version, state";

fn ticket_from(r: &Row) -> Result<TicketRow, StoreError> {
    Ok(TicketRow {
        ticket_no: r.text(0)?,
        category: r.text(1)?,
        urgent: r.int(2)? != 0,
        channel: r.text(3)?,
        status: r.text(4)?,
        lead_unit: r.opt_text(5)?,
        caller_account: r.opt_text(6)?,
        content: r.text(7)?,
        location: r.text(8)?,
        received_at_ms: r.int(9)?,
        sign_due_ms: r.opt_int(10)?,
        reply_due_ms: r.opt_int(11)?,
        replied_at_ms: r.opt_int(12)?,
        replied_on_time: r.opt_int(13)?.map(|v| v != 0),
        answered_directly: r.int(14)? != 0,
        followed_up: r.int(15)? != 0,
        satisfaction: r.opt_text(16)?,
        reopen_count: r.int(17)?,
        merged_into: r.opt_text(18)?,
        closed_at_ms: r.opt_int(19)?,
        version: r.int(20)?,
        state: r.text(21)?,
    })
}

/// Which tickets to list.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub status: Option<String>,
    pub lead_unit: Option<String>,
    pub category: Option<String>,
    pub caller_account: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

/// Counted ratings since a time, tallied by everything the satisfaction report groups on.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingTally {
    pub kind: String,
    pub department: String,
    pub service_point: String,
    pub staff: String,
    pub item_code: String,
    pub channel: String,
    pub level: String,
    pub named: bool,
    pub remediation: Option<String>,
    pub count: i64,
}

/// A rating with its remediation, projected from its stream.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingRow {
    pub id: String,
    /// case | window | ticket
    pub kind: String,
    pub target: String,
    pub rater: String,
    /// The rater is known by name (a signed-in account), so a bad rating is followed up with them.
    pub named: bool,
    pub department: String,
    pub service_point: String,
    pub staff: String,
    pub item_code: String,
    pub channel: String,
    pub level: String,
    pub comment: String,
    /// JSON array of tags.
    pub tags: String,
    pub rated_at_ms: i64,
    pub changeable_until_ms: i64,
    /// False when an appeal was upheld (the rating no longer counts).
    pub counted: bool,
    /// None, or open | verified | rectified | fed_back
    pub remediation: Option<String>,
    pub remediation_due: Option<String>,
    /// JSON object of the steps' notes.
    pub remediation_notes: String,
    /// None, or pending | upheld | rejected
    pub appeal: Option<String>,
    pub alerted: bool,
}

const RATING_COLS: &str = "id, kind, target, rater, named, department, service_point, staff, item_code, channel, level, comment, tags, rated_at_ms, changeable_until_ms, counted, remediation, remediation_due, remediation_notes, appeal, alerted";

fn rating_from(r: &Row) -> Result<RatingRow, StoreError> {
    Ok(RatingRow {
        id: r.text(0)?,
        kind: r.text(1)?,
        target: r.text(2)?,
        rater: r.text(3)?,
        named: r.int(4)? != 0,
        department: r.text(5)?,
        service_point: r.text(6)?,
        staff: r.text(7)?,
        item_code: r.text(8)?,
        channel: r.text(9)?,
        level: r.text(10)?,
        comment: r.text(11)?,
        tags: r.text(12)?,
        rated_at_ms: r.int(13)?,
        changeable_until_ms: r.int(14)?,
        counted: r.int(15)? != 0,
        remediation: r.opt_text(16)?,
        remediation_due: r.opt_text(17)?,
        remediation_notes: r.text(18)?,
        appeal: r.opt_text(19)?,
        alerted: r.int(20)? != 0,
    })
}

/// A knowledge-base article version.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleRow {
    pub id: String,
    pub version: i64,
    pub category: String,
    pub title: String,
    pub body: String,
    pub published_at_ms: i64,
    pub published_by: String,
}

fn article_from(r: &Row) -> Result<ArticleRow, StoreError> {
    Ok(ArticleRow {
        id: r.text(0)?,
        version: r.int(1)?,
        category: r.text(2)?,
        title: r.text(3)?,
        body: r.text(4)?,
        published_at_ms: r.int(5)?,
        published_by: r.text(6)?,
    })
}

fn b(v: bool) -> Val {
    Val::Int(i64::from(v))
}

impl Db {
    pub fn put_ticket(&mut self, t: &TicketRow) -> Result<(), StoreError> {
        self.sql.exec("DELETE FROM tickets WHERE ticket_no = $1", &[t.ticket_no.as_str().into()])?;
        self.sql.exec(
            &format!(
                "INSERT INTO tickets ({TICKET_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
            ),
            &[
                t.ticket_no.as_str().into(),
                t.category.as_str().into(),
                b(t.urgent),
                t.channel.as_str().into(),
                t.status.as_str().into(),
                t.lead_unit.clone().into(),
                t.caller_account.clone().into(),
                t.content.as_str().into(),
                t.location.as_str().into(),
                Val::Int(t.received_at_ms),
                t.sign_due_ms.into(),
                t.reply_due_ms.into(),
                t.replied_at_ms.into(),
                t.replied_on_time.map(i64::from).into(),
                b(t.answered_directly),
                b(t.followed_up),
                t.satisfaction.clone().into(),
                Val::Int(t.reopen_count),
                t.merged_into.clone().into(),
                t.closed_at_ms.into(),
                Val::Int(t.version),
                t.state.as_str().into(),
            ],
        )?;
        Ok(())
    }

    pub fn ticket(&mut self, no: &str) -> Result<Option<TicketRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {TICKET_COLS} FROM tickets WHERE ticket_no = $1"), &[no.into()])?;
        rows.first().map(ticket_from).transpose()
    }

    /// Tickets, newest first, with the total matching.
    pub fn tickets(&mut self, f: &TicketFilter) -> Result<(Vec<TicketRow>, i64), StoreError> {
        let mut wh = Vec::new();
        let mut params: Vec<Val> = Vec::new();
        for (col, v) in [
            ("status", &f.status),
            ("lead_unit", &f.lead_unit),
            ("category", &f.category),
            ("caller_account", &f.caller_account),
        ] {
            if let Some(v) = v {
                params.push(v.into());
                wh.push(format!("{col} = ${}", params.len()));
            }
        }
        if let Some(from) = f.from_ms {
            params.push(Val::Int(from));
            wh.push(format!("received_at_ms >= ${}", params.len()));
        }
        if let Some(to) = f.to_ms {
            params.push(Val::Int(to));
            wh.push(format!("received_at_ms < ${}", params.len()));
        }
        let where_sql = if wh.is_empty() { String::new() } else { format!(" WHERE {}", wh.join(" AND ")) };
        let total = self
            .sql
            .query(&format!("SELECT COUNT(*) FROM tickets{where_sql}"), &params)?
            .first()
            .map_or(Ok(0), |r| r.int(0))?;
        let n = params.len();
        params.push(Val::Int(f.limit));
        params.push(Val::Int(f.offset));
        let rows = self.sql.query(
            &format!(
                "SELECT {TICKET_COLS} FROM tickets{where_sql} ORDER BY received_at_ms DESC, ticket_no LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            ),
            &params,
        )?;
        Ok((rows.iter().map(ticket_from).collect::<Result<_, _>>()?, total))
    }

    /// Open tickets received since `since_ms` (merge suggestions compare a new ticket with these).
    pub fn recent_open_tickets(&mut self, since_ms: i64, limit: i64) -> Result<Vec<TicketRow>, StoreError> {
        let rows = self.sql.query(
            &format!(
                "SELECT {TICKET_COLS} FROM tickets WHERE received_at_ms >= $1 AND status IN ('received', 'dispatched', 'signed', 'replied') \
                 ORDER BY received_at_ms DESC LIMIT $2"
            ),
            &[Val::Int(since_ms), Val::Int(limit)],
        )?;
        rows.iter().map(ticket_from).collect()
    }

    /// Tickets merged into `primary`.
    pub fn tickets_merged_into(&mut self, primary: &str) -> Result<Vec<TicketRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {TICKET_COLS} FROM tickets WHERE merged_into = $1 AND status = 'merged'"),
            &[primary.into()],
        )?;
        rows.iter().map(ticket_from).collect()
    }

    /// Tickets whose signing, reply or follow-up is overdue at `now_ms` (through the partial indexes):
    /// (kind, row) with kind sign | reply | follow_up. A follow-up is due `follow_up_ms` after the reply.
    pub fn tickets_overdue(
        &mut self,
        now_ms: i64,
        follow_up_ms: i64,
        limit: i64,
    ) -> Result<Vec<(String, TicketRow)>, StoreError> {
        let mut out = Vec::new();
        for (kind, sql) in [
            ("sign", format!("SELECT {TICKET_COLS} FROM tickets WHERE status = 'dispatched' AND sign_due_ms < $1 LIMIT $2")),
            (
                "reply",
                format!("SELECT {TICKET_COLS} FROM tickets WHERE status IN ('dispatched', 'signed') AND reply_due_ms < $1 LIMIT $2"),
            ),
            (
                "follow_up",
                format!("SELECT {TICKET_COLS} FROM tickets WHERE status = 'replied' AND followed_up = 0 AND replied_at_ms < $1 LIMIT $2"),
            ),
        ] {
            let at = if kind == "follow_up" { now_ms - follow_up_ms } else { now_ms };
            for r in self.sql.query(&sql, &[Val::Int(at), Val::Int(limit)])? {
                out.push((kind.to_string(), ticket_from(&r)?));
            }
        }
        Ok(out)
    }

    /// Tickets waiting for signing or a reply whose reply is due at or after `from_ms`.
    pub fn open_tickets_due_from(&mut self, from_ms: i64) -> Result<Vec<TicketRow>, StoreError> {
        let sql = format!(
            "SELECT {TICKET_COLS} FROM tickets WHERE status IN ('dispatched', 'signed') AND reply_due_ms >= $1 ORDER BY ticket_no"
        );
        self.sql.query(&sql, &[Val::Int(from_ms)])?.iter().map(ticket_from).collect()
    }

    pub fn put_directory(&mut self, version: i64, body: &str, at_ms: i64, by: &str) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO hotline_directory (version, body, published_at_ms, published_by) VALUES ($1, $2, $3, $4)",
            &[Val::Int(version), body.into(), Val::Int(at_ms), by.into()],
        )?;
        Ok(())
    }

    /// The newest directory: (version, body).
    pub fn directory(&mut self) -> Result<Option<(i64, String)>, StoreError> {
        let rows = self.sql.query("SELECT version, body FROM hotline_directory ORDER BY version DESC LIMIT 1", &[])?;
        rows.first().map(|r| Ok((r.int(0)?, r.text(1)?))).transpose()
    }

    pub fn put_article(&mut self, a: &ArticleRow) -> Result<(), StoreError> {
        self.sql.exec(
            "INSERT INTO kb_articles (id, version, category, title, body, published_at_ms, published_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                a.id.as_str().into(),
                Val::Int(a.version),
                a.category.as_str().into(),
                a.title.as_str().into(),
                a.body.as_str().into(),
                Val::Int(a.published_at_ms),
                a.published_by.as_str().into(),
            ],
        )?;
        Ok(())
    }

    /// The newest version of every article.
    pub fn articles(&mut self) -> Result<Vec<ArticleRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT a.id, a.version, a.category, a.title, a.body, a.published_at_ms, a.published_by FROM kb_articles a \
             WHERE a.version = (SELECT MAX(b.version) FROM kb_articles b WHERE b.id = a.id) ORDER BY a.id",
            &[],
        )?;
        rows.iter().map(article_from).collect()
    }

    /// Every version of one article, oldest first.
    pub fn article_versions(&mut self, id: &str) -> Result<Vec<ArticleRow>, StoreError> {
        let rows = self.sql.query(
            "SELECT id, version, category, title, body, published_at_ms, published_by FROM kb_articles WHERE id = $1 ORDER BY version",
            &[id.into()],
        )?;
        rows.iter().map(article_from).collect()
    }

    pub fn put_rating(&mut self, r: &RatingRow) -> Result<(), StoreError> {
        self.sql.exec("DELETE FROM ratings WHERE id = $1", &[r.id.as_str().into()])?;
        self.sql.exec(
            &format!(
                "INSERT INTO ratings ({RATING_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
            ),
            &[
                r.id.as_str().into(),
                r.kind.as_str().into(),
                r.target.as_str().into(),
                r.rater.as_str().into(),
                b(r.named),
                r.department.as_str().into(),
                r.service_point.as_str().into(),
                r.staff.as_str().into(),
                r.item_code.as_str().into(),
                r.channel.as_str().into(),
                r.level.as_str().into(),
                r.comment.as_str().into(),
                r.tags.as_str().into(),
                Val::Int(r.rated_at_ms),
                Val::Int(r.changeable_until_ms),
                b(r.counted),
                r.remediation.clone().into(),
                r.remediation_due.clone().into(),
                r.remediation_notes.as_str().into(),
                r.appeal.clone().into(),
                b(r.alerted),
            ],
        )?;
        Ok(())
    }

    pub fn rating(&mut self, id: &str) -> Result<Option<RatingRow>, StoreError> {
        let rows = self.sql.query(&format!("SELECT {RATING_COLS} FROM ratings WHERE id = $1"), &[id.into()])?;
        rows.first().map(rating_from).transpose()
    }

    /// The rating of one rater for one target, if any.
    pub fn rating_of(&mut self, kind: &str, target: &str, rater: &str) -> Result<Option<RatingRow>, StoreError> {
        let rows = self.sql.query(
            &format!("SELECT {RATING_COLS} FROM ratings WHERE kind = $1 AND target = $2 AND rater = $3"),
            &[kind.into(), target.into(), rater.into()],
        )?;
        rows.first().map(rating_from).transpose()
    }

    /// The satisfaction report's tallies, aggregated in the database (one row per distinct combination, never a
    /// row per rating).
    pub fn rating_tallies(&mut self, since_ms: i64) -> Result<Vec<RatingTally>, StoreError> {
        let rows = self.sql.query(
            "SELECT kind, department, service_point, staff, item_code, channel, level, named, remediation, COUNT(*) \
             FROM ratings WHERE counted = 1 AND rated_at_ms >= $1 \
             GROUP BY kind, department, service_point, staff, item_code, channel, level, named, remediation",
            &[Val::Int(since_ms)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(RatingTally {
                    kind: r.text(0)?,
                    department: r.text(1)?,
                    service_point: r.text(2)?,
                    staff: r.text(3)?,
                    item_code: r.text(4)?,
                    channel: r.text(5)?,
                    level: r.text(6)?,
                    named: r.int(7)? != 0,
                    remediation: r.opt_text(8)?,
                    count: r.int(9)?,
                })
            })
            .collect()
    }

    /// Ratings, newest first: all, or one department's; optionally since a time.
    pub fn ratings(
        &mut self,
        department: Option<&str>,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<RatingRow>, StoreError> {
        let rows = match department {
            Some(d) => self.sql.query(
                &format!("SELECT {RATING_COLS} FROM ratings WHERE department = $1 AND rated_at_ms >= $2 ORDER BY rated_at_ms DESC, id LIMIT $3"),
                &[d.into(), Val::Int(since_ms), Val::Int(limit)],
            )?,
            None => self.sql.query(
                &format!("SELECT {RATING_COLS} FROM ratings WHERE rated_at_ms >= $1 ORDER BY rated_at_ms DESC, id LIMIT $2"),
                &[Val::Int(since_ms), Val::Int(limit)],
            )?,
        };
        rows.iter().map(rating_from).collect()
    }

    /// Bad ratings whose remediation is still open after its last day, not alerted yet.
    pub fn remediations_overdue(&mut self, today: &str, limit: i64) -> Result<Vec<RatingRow>, StoreError> {
        let rows = self.sql.query(
            &format!(
                "SELECT {RATING_COLS} FROM ratings WHERE remediation IN ('open', 'verified', 'rectified') AND alerted = 0 \
                 AND remediation_due < $1 ORDER BY remediation_due, id LIMIT $2"
            ),
            &[today.into(), Val::Int(limit)],
        )?;
        rows.iter().map(rating_from).collect()
    }
}
