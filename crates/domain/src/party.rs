//! The applicant of a case and its 证件号码 (`IdNumber`): a person's resident ID number or an organisation's USCC,
//! with the stage it is in — clear as submitted, sealed as stored, masked as shown — in its type, so no code decides
//! the stage by looking at the string. On the wire and in stored events it is the plain string it always was.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use crate::ids::{IdError, ResidentId, Uscc};
use crate::personal_data::Sealed;

/// The name of the applicant's ID number as a field: in validation errors, in the fields a staff member unmasked,
/// and as a licence field's source.
pub const ID_NUMBER_FIELD: &str = "applicant.id_number";

/// 申请人类型: a natural person or an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    Person,
    Organisation,
}

/// A validated 证件号码 in clear: a person's resident ID number or an organisation's USCC. The only way to a clear
/// number is a parsed `ResidentId` or `Uscc`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ClearId {
    Resident(ResidentId),
    Organisation(Uscc),
}

impl ClearId {
    /// Parse the number of an applicant of `kind` (a resident ID number for a person, a USCC for an organisation).
    pub fn parse(kind: ApplicantKind, s: &str) -> Result<ClearId, IdError> {
        match kind {
            ApplicantKind::Person => ResidentId::parse(s).map(ClearId::Resident),
            ApplicantKind::Organisation => Uscc::parse(s).map(ClearId::Organisation),
        }
    }

    pub fn kind(&self) -> ApplicantKind {
        match self {
            ClearId::Resident(_) => ApplicantKind::Person,
            ClearId::Organisation(_) => ApplicantKind::Organisation,
        }
    }

    /// The clear number, for sealing, blind indexes and a staff member's recorded unmasking.
    pub fn as_str(&self) -> &str {
        match self {
            ClearId::Resident(r) => r.as_str(),
            ClearId::Organisation(u) => u.as_str(),
        }
    }

    /// The number as it may be shown: a person's masked (`640104********001X`), an organisation's USCC (public).
    pub fn masked(&self) -> IdNumber {
        match self {
            ClearId::Resident(r) => IdNumber::Masked(MaskedId::from(r)),
            ClearId::Organisation(_) => IdNumber::Clear(self.clone()),
        }
    }

    /// The text of `masked()`.
    pub fn shown(&self) -> String {
        match self {
            ClearId::Resident(r) => r.masked(),
            ClearId::Organisation(u) => u.as_str().to_string(),
        }
    }
}

impl fmt::Debug for ClearId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClearId::Resident(_) => f.write_str("ClearId::Resident(<redacted>)"),
            ClearId::Organisation(_) => f.write_str("ClearId::Organisation(<redacted>)"),
        }
    }
}

impl From<ResidentId> for ClearId {
    fn from(r: ResidentId) -> ClearId {
        ClearId::Resident(r)
    }
}

impl From<Uscc> for ClearId {
    fn from(u: Uscc) -> ClearId {
        ClearId::Organisation(u)
    }
}

/// The masked form of a 证件号码 as shown to people (`640104********001X`, or `****` when nothing could be read).
/// Nothing turns it back into a number.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct MaskedId(String);

impl MaskedId {
    /// What is shown when the number could not be opened.
    pub fn unreadable() -> MaskedId {
        MaskedId("****".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&ResidentId> for MaskedId {
    fn from(r: &ResidentId) -> MaskedId {
        MaskedId(r.masked())
    }
}

impl fmt::Debug for MaskedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MaskedId({:?})", self.0)
    }
}

impl fmt::Display for MaskedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 证件号码 of an applicant, in the stage it is in. Serialised as the plain string it always was; which stage a
/// stored string is in is decided once, when the applicant is read (`IdNumber::classify`).
///
/// - `Clear` — as submitted, validated at the edge. A person's number is clear only until `App::seal_event`
///   seals it; an organisation's USCC is public and stays clear in events, projections and answers.
/// - `Sealed` — a person's number as stored (SM4-GCM, `personal_data::SEALED_PREFIX`); only the application's
///   keyring opens it, and sealing takes a clear number, so a sealed one is never sealed again.
/// - `Masked` — a person's number as shown; it cannot be opened or sealed.
#[derive(Clone, PartialEq, Eq)]
pub enum IdNumber {
    Clear(ClearId),
    Sealed(Sealed),
    Masked(MaskedId),
}

impl IdNumber {
    /// The stage of a stored or received string, for an applicant of `kind`: sealed values by their format, then
    /// a valid number of the kind (exactly as written), and anything else is text to show, never a number.
    pub fn classify(kind: ApplicantKind, s: &str) -> IdNumber {
        if let Some(sealed) = Sealed::parse(s) {
            return IdNumber::Sealed(sealed);
        }
        match ClearId::parse(kind, s) {
            Ok(c) if c.as_str() == s => IdNumber::Clear(c),
            _ => IdNumber::Masked(MaskedId(s.to_string())),
        }
    }

    /// The clear number, when it is clear.
    pub fn clear(&self) -> Option<&ClearId> {
        match self {
            IdNumber::Clear(c) => Some(c),
            _ => None,
        }
    }

    /// The organisation's USCC, when this is one.
    pub fn organisation(&self) -> Option<&Uscc> {
        match self {
            IdNumber::Clear(ClearId::Organisation(u)) => Some(u),
            _ => None,
        }
    }

    /// The text to show: never a person's clear number (masked here if it still is one), `****` for a sealed
    /// number (open it first to show its masked form).
    pub fn shown(&self) -> String {
        match self {
            IdNumber::Clear(c) => c.shown(),
            IdNumber::Sealed(_) => MaskedId::unreadable().0,
            IdNumber::Masked(m) => m.0.clone(),
        }
    }

    /// The stored or sent text: clear, sealed or masked as the stage is (what serialisation writes).
    fn as_stored(&self) -> &str {
        match self {
            IdNumber::Clear(c) => c.as_str(),
            IdNumber::Sealed(s) => s.as_str(),
            IdNumber::Masked(m) => m.as_str(),
        }
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdNumber::Clear(c) => write!(f, "IdNumber::Clear({c:?})"),
            IdNumber::Sealed(_) => f.write_str("IdNumber::Sealed(<redacted>)"),
            IdNumber::Masked(m) => write!(f, "IdNumber::Masked({:?})", m.as_str()),
        }
    }
}

impl Serialize for IdNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_stored())
    }
}

impl From<ClearId> for IdNumber {
    fn from(c: ClearId) -> IdNumber {
        IdNumber::Clear(c)
    }
}

impl From<ResidentId> for IdNumber {
    fn from(r: ResidentId) -> IdNumber {
        IdNumber::Clear(ClearId::Resident(r))
    }
}

impl From<Uscc> for IdNumber {
    fn from(u: Uscc) -> IdNumber {
        IdNumber::Clear(ClearId::Organisation(u))
    }
}

/// The applicant as recorded on the case. Debug output hides the ID number and phone. Serialised with the same
/// fields and strings as ever; read through `StoredApplicant`, which classifies the ID number by the kind.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredApplicant")]
pub struct ApplicantInfo {
    /// `person` or `organisation`.
    pub kind: ApplicantKind,
    pub name: String,
    /// Resident ID number (person) or USCC (organisation), in its stage.
    pub id_number: IdNumber,
    #[serde(default)]
    pub phone: Option<String>,
    /// The account that may follow and act on the case online, if any.
    #[serde(default)]
    pub account: Option<String>,
}

impl ApplicantInfo {
    /// An applicant as submitted: the kind follows from the validated number.
    pub fn new(id: ClearId, name: String, phone: Option<String>, account: Option<String>) -> ApplicantInfo {
        ApplicantInfo { kind: id.kind(), name, id_number: IdNumber::Clear(id), phone, account }
    }
}

/// The stored shape of an applicant (the strings as written).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredApplicant {
    kind: ApplicantKind,
    name: String,
    id_number: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    account: Option<String>,
}

impl From<StoredApplicant> for ApplicantInfo {
    fn from(a: StoredApplicant) -> ApplicantInfo {
        ApplicantInfo {
            kind: a.kind,
            name: a.name,
            id_number: IdNumber::classify(a.kind, &a.id_number),
            phone: a.phone,
            account: a.account,
        }
    }
}

impl fmt::Debug for ApplicantInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicantInfo")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("id_number", &self.id_number)
            .field("phone", &self.phone.as_ref().map(|_| "<redacted>"))
            .field("account", &self.account)
            .finish()
    }
}
