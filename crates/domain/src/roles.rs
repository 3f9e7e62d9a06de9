//! Roles of staff and citizens, and the actor that issues a command.

use serde::{Deserialize, Serialize};

use crate::ids::DepartmentId;

/// What a user may do; a staff account may hold several roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Applicant,
    /// 窗口人员: general window or bank branch clerk; accepts any item.
    WindowClerk,
    /// 审查人员.
    Reviewer,
    /// 审批人 (科长): decides.
    Approver,
    /// 勘验人员.
    Inspector,
    /// 电子监察.
    Supervisor,
    /// 监管部门.
    Regulator,
    HotlineOperator,
    HandlingUnit,
    Administrator,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Applicant,
        Role::WindowClerk,
        Role::Reviewer,
        Role::Approver,
        Role::Inspector,
        Role::Supervisor,
        Role::Regulator,
        Role::HotlineOperator,
        Role::HandlingUnit,
        Role::Administrator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::WindowClerk => "window_clerk",
            Role::Reviewer => "reviewer",
            Role::Approver => "approver",
            Role::Inspector => "inspector",
            Role::Supervisor => "supervisor",
            Role::Regulator => "regulator",
            Role::HotlineOperator => "hotline_operator",
            Role::HandlingUnit => "handling_unit",
            Role::Administrator => "administrator",
        }
    }

    /// The role of its stored and serialized name ([`Role::as_str`]).
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who issues a command: an account id, its roles and its department (staff only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub department: Option<DepartmentId>,
    /// Organisations (USCC) this applicant acts for: as legal representative or as an agent authorised to apply
    /// (apply, withdraw, correct, consent, rate).
    #[serde(default)]
    pub acts_for: Vec<String>,
    /// Organisations (USCC) this applicant only follows: an agent authorised to follow sees the cases and
    /// licences and acts on none of them.
    #[serde(default)]
    pub follows: Vec<String>,
    /// The service point a staff member is posted to (`staff_posted`, set by administrators): a point of the
    /// service network's id, or a free-text place. A window clerk works the windows, the queue and the returned
    /// shipments of that point only.
    #[serde(default)]
    pub post: Option<String>,
}

impl Actor {
    /// The application acting on its own (a subscriber, a public lookup), with one role; never a person's account.
    pub fn system(id: &str, role: Role, department: Option<DepartmentId>) -> Actor {
        Actor {
            id: id.to_string(),
            display_name: String::new(),
            roles: vec![role],
            department,
            acts_for: vec![],
            follows: vec![],
            post: None,
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether this actor may work a task for `role` in `department`.
    pub fn can_work(&self, role: Role, department: Option<&DepartmentId>) -> bool {
        self.has(role) && (department.is_none() || self.department.as_ref() == department)
    }

    /// Whether this actor applies for (or acts for) the applicant of a case: their own account, or an organisation
    /// they represent.
    /// An organisation's case belongs to the organisation: whoever submitted it, only its representative and
    /// current agents act on it.
    pub fn acts_as_applicant(&self, account: Option<&str>, organisation_uscc: Option<&str>) -> bool {
        match organisation_uscc {
            Some(u) => self.acts_for.iter().any(|x| x == u),
            None => account == Some(self.id.as_str()),
        }
    }

    /// Whether this actor may see what belongs to the applicant of a case: whoever acts for it, and agents who
    /// only follow the organisation.
    pub fn sees_as_applicant(&self, account: Option<&str>, organisation_uscc: Option<&str>) -> bool {
        self.acts_as_applicant(account, organisation_uscc)
            || organisation_uscc.is_some_and(|u| self.follows.iter().any(|x| x == u))
    }

    pub fn is_staff(&self) -> bool {
        self.roles.iter().any(|r| *r != Role::Applicant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip_through_parse_and_serde() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!(r.as_str()));
            assert_eq!(r.to_string(), r.as_str());
        }
        assert_eq!(Role::parse("Approver"), None);
        assert_eq!(Role::parse(""), None);
    }
}
