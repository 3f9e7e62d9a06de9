//! The PostgreSQL backend: the synchronous `postgres` client on the store's own threads, statements prepared once
//! per connection, `synchronous_commit = on` checked at connect.

use std::collections::HashMap;

use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};

use crate::sql::{Row, Sql, Val};
use crate::{Backend, StoreError};

pub struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
}

fn map_err(e: postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        if db.code().code().starts_with("23") {
            return StoreError::Constraint(db.message().to_string());
        }
        return StoreError::Db(format!("{}: {}", db.code().code(), db.message()));
    }
    StoreError::Db(e.to_string())
}

impl PgConn {
    pub fn connect(url: &str) -> Result<PgConn, StoreError> {
        let mut client = Client::connect(url, NoTls).map_err(map_err)?;
        client.batch_execute("SET synchronous_commit = on; SET client_min_messages = warning").map_err(map_err)?;
        Ok(PgConn { client, statements: HashMap::new() })
    }

    /// A writer's side connection for counters: each increment commits on its own, at once, so no transaction
    /// holds a counter's row. Its commits need not wait for the disk: a value is used only by a writer transaction
    /// that commits (and flushes the WAL, which holds the increment before it) later.
    pub fn connect_side(url: &str) -> Result<PgConn, StoreError> {
        let mut c = PgConn::connect(url)?;
        c.client.batch_execute("SET synchronous_commit = off").map_err(map_err)?;
        Ok(c)
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(map_err)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

/// Bind a value as the type the statement expects, so `$1` may be BIGINT or TEXT.
fn bind<'a>(v: &'a Val, ty: &Type) -> Box<dyn ToSql + Sync + 'a> {
    match v {
        Val::Null if *ty == Type::INT8 => Box::new(Option::<i64>::None),
        Val::Null if *ty == Type::INT4 => Box::new(Option::<i32>::None),
        Val::Null => Box::new(Option::<String>::None),
        Val::Int(i) if *ty == Type::INT4 => Box::new(*i as i32),
        Val::Int(i) if *ty == Type::TEXT => Box::new(i.to_string()),
        Val::Int(i) => Box::new(*i),
        Val::Text(s) => Box::new(s.as_str()),
    }
}

impl Sql for PgConn {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
        let st = self.statement(sql)?;
        let holders: Vec<Box<dyn ToSql + Sync + '_>> =
            params.iter().zip(st.params()).map(|(v, ty)| bind(v, ty)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = holders.iter().map(|b| b.as_ref()).collect();
        self.client.execute(&st, &refs).map_err(map_err)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError> {
        let st = self.statement(sql)?;
        let holders: Vec<Box<dyn ToSql + Sync + '_>> =
            params.iter().zip(st.params()).map(|(v, ty)| bind(v, ty)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = holders.iter().map(|b| b.as_ref()).collect();
        let rows = self.client.query(&st, &refs).map_err(map_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut v = Vec::with_capacity(r.len());
            for (i, c) in r.columns().iter().enumerate() {
                let ty = c.type_();
                v.push(if *ty == Type::INT8 {
                    r.try_get::<_, Option<i64>>(i).map_err(map_err)?.map_or(Val::Null, Val::Int)
                } else if *ty == Type::INT4 {
                    r.try_get::<_, Option<i32>>(i).map_err(map_err)?.map_or(Val::Null, |x| Val::Int(i64::from(x)))
                } else if *ty == Type::BOOL {
                    r.try_get::<_, Option<bool>>(i).map_err(map_err)?.map_or(Val::Null, |x| Val::Int(i64::from(x)))
                } else {
                    r.try_get::<_, Option<String>>(i).map_err(map_err)?.map_or(Val::Null, Val::Text)
                });
            }
            out.push(Row(v));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.client.batch_execute(sql).map_err(map_err)
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }
}
