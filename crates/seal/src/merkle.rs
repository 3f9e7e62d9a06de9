//! Merkle trees for the transparency log over the event store: RFC 6962 / RFC 9162 hashing with SM3 or SHA-256,
//! O(log n) appends on stored nodes, inclusion and consistency proofs with their verifiers, and checkpoints in the
//! C2SP tlog-checkpoint signed-note format. No IO: the nodes live behind the [`NodeStore`] trait.
//!
//! # Hashing (RFC 6962 §2.1, RFC 9162 §2.1.1)
//!
//! With `H` the chosen [`TreeHash`]: the empty tree's root is `H("")`, a leaf hash is `H(0x00 ‖ data)`, an interior
//! node is `H(0x01 ‖ left ‖ right)`. A tree of `n > 1` leaves splits at `k`, the largest power of two below `n`.
//!
//! # Stored nodes
//!
//! Node `(level, index)` is the root of the *complete* subtree over leaves `[index·2^level, (index+1)·2^level)`;
//! level 0 holds the leaf hashes. Nodes are written once, by [`append`], and never change: appending leaf `n`
//! writes `(0, n)` and every subtree it completes (one put per trailing one bit of `n`, plus one). Every root and
//! proof for any size up to the current one is computed from these nodes alone (a subtree at the right edge that
//! is not complete is hashed from its stored complete children), so old checkpoints stay provable.
//!
//! # Checkpoints (c2sp.org/tlog-checkpoint, c2sp.org/signed-note)
//!
//! The body is `<origin>\n<size in decimal>\n<base64 root>\n`; a blank line follows, then signature lines
//! `— <key name> <base64(4-byte key id ‖ signature)>\n` (U+2014 em dash, then a space). Signatures cover the body
//! including its final newline. The signature algorithm is the caller's (closures); for the seal's SM2 key see
//! [`sm2_note_key_id`]. A checkpoint of an SM3 tree has the same shape as a standard one but its root is not an
//! RFC 6962 SHA-256 root: standard tlog tooling can parse it but not check proofs against it.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::Sha256;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm3::{Digest, Sm3};

/// A 32-byte tree hash (both SM3 and SHA-256 output 32 bytes).
pub type Hash = [u8; 32];

/// The hash function of a tree. A tree never changes its hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TreeHash {
    Sm3,
    Sha256,
}

impl TreeHash {
    /// A stable name for configuration and database columns: `sm3` or `sha256`.
    pub fn name(self) -> &'static str {
        match self {
            TreeHash::Sm3 => "sm3",
            TreeHash::Sha256 => "sha256",
        }
    }

    /// The hash function named by [`TreeHash::name`].
    pub fn from_name(name: &str) -> Option<TreeHash> {
        match name {
            "sm3" => Some(TreeHash::Sm3),
            "sha256" => Some(TreeHash::Sha256),
            _ => None,
        }
    }

    fn digest(self, parts: &[&[u8]]) -> Hash {
        match self {
            TreeHash::Sm3 => {
                let mut h = Sm3::new();
                for p in parts {
                    h.update(p);
                }
                h.finalize().into()
            }
            TreeHash::Sha256 => {
                let mut h = Sha256::new();
                for p in parts {
                    h.update(p);
                }
                h.finalize().into()
            }
        }
    }

    /// The root of the empty tree: `H("")`.
    pub fn empty_root(self) -> Hash {
        self.digest(&[])
    }

    /// The hash of a leaf: `H(0x00 ‖ data)`.
    pub fn leaf(self, data: &[u8]) -> Hash {
        self.digest(&[&[0x00], data])
    }

    /// The hash of an interior node: `H(0x01 ‖ left ‖ right)`.
    pub fn node(self, left: &Hash, right: &Hash) -> Hash {
        self.digest(&[&[0x01], left, right])
    }
}

/// Where the tree's complete-subtree nodes live (a database table in production, [`MemStore`] in tests and fsck).
///
/// `get(level, index)` returns node `(level, index)`, the root of the complete subtree over leaves
/// `[index·2^level, (index+1)·2^level)`, or `None` if it was never written. `put` writes a node once; the functions
/// of this module never overwrite a node, so a store should refuse to change an existing node (an error) rather
/// than replace it. Puts of one [`append`] must be committed atomically with the new tree size.
pub trait NodeStore {
    type Error;
    fn get(&mut self, level: u8, index: u64) -> Result<Option<Hash>, Self::Error>;
    fn put(&mut self, level: u8, index: u64, hash: Hash) -> Result<(), Self::Error>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError<E> {
    #[error("node store: {0}")]
    Store(E),
    #[error("node ({level}, {index}) is missing from the store")]
    MissingNode { level: u8, index: u64 },
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the old tree size {old} is larger than the new tree size {new}")]
    SizeOrder { old: u64, new: u64 },
    #[error("the tree is full")]
    Full,
}

impl<E> TreeError<E> {
    pub fn code(&self) -> &'static str {
        match self {
            TreeError::Store(_) => "merkle_store",
            TreeError::MissingNode { .. } => "merkle_missing_node",
            TreeError::IndexOutOfRange { .. } => "merkle_index_out_of_range",
            TreeError::SizeOrder { .. } => "merkle_size_order",
            TreeError::Full => "merkle_full",
        }
    }
}

fn get_node<S: NodeStore + ?Sized>(store: &mut S, level: u8, index: u64) -> Result<Hash, TreeError<S::Error>> {
    store.get(level, index).map_err(TreeError::Store)?.ok_or(TreeError::MissingNode { level, index })
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[start:end]) from stored nodes. A complete aligned range is one get; otherwise the range splits as RFC 6962
/// says, and for the ranges this module asks about (the left part always complete and aligned) that makes one get
/// per set bit of `end - start`.
fn range_hash<S: NodeStore + ?Sized>(
    store: &mut S,
    kind: TreeHash,
    start: u64,
    end: u64,
) -> Result<Hash, TreeError<S::Error>> {
    let n = end - start;
    if n == 0 {
        return Ok(kind.empty_root());
    }
    if n.is_power_of_two() && start.is_multiple_of(n) {
        let level = n.trailing_zeros() as u8;
        return get_node(store, level, start >> level);
    }
    let mid = start + split(n);
    let left = range_hash(store, kind, start, mid)?;
    let right = range_hash(store, kind, mid, end)?;
    Ok(kind.node(&left, &right))
}

/// Append a leaf hash (from [`TreeHash::leaf`]) to a tree of `size_before` leaves: puts the leaf at `(0,
/// size_before)` and every parent it completes, reading each completed parent's left sibling. Returns the new size.
/// At most ⌈log2(n)⌉ + 1 puts and ⌈log2(n)⌉ gets for the new size n.
pub fn append<S: NodeStore + ?Sized>(
    store: &mut S,
    kind: TreeHash,
    size_before: u64,
    leaf_hash: Hash,
) -> Result<u64, TreeError<S::Error>> {
    let size = size_before.checked_add(1).ok_or(TreeError::Full)?;
    store.put(0, size_before, leaf_hash).map_err(TreeError::Store)?;
    let (mut hash, mut index, mut level) = (leaf_hash, size_before, 0u8);
    while index & 1 == 1 {
        let left = get_node(store, level, index - 1)?;
        hash = kind.node(&left, &hash);
        level += 1;
        index >>= 1;
        store.put(level, index, hash).map_err(TreeError::Store)?;
    }
    Ok(size)
}

/// The RFC 6962 root of the first `size` leaves (any size up to the stored tree's): one get per set bit of `size`.
pub fn root<S: NodeStore + ?Sized>(store: &mut S, kind: TreeHash, size: u64) -> Result<Hash, TreeError<S::Error>> {
    range_hash(store, kind, 0, size)
}

/// The audit path of leaf `index` in the tree of `size` leaves, RFC 6962 §2.1.1 `PATH(m, D[n])`: siblings from the
/// leaf upwards. O(log n) gets.
pub fn inclusion_proof<S: NodeStore + ?Sized>(
    store: &mut S,
    kind: TreeHash,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, TreeError<S::Error>> {
    if index >= size {
        return Err(TreeError::IndexOutOfRange { index, size });
    }
    // PATH(m, D[0:k]) : MTH(D[k:n]) or PATH(m - k, D[k:n]) : MTH(D[0:k]), collected from the top and reversed.
    let mut top_down = Vec::new();
    let (mut start, mut end) = (0u64, size);
    while end - start > 1 {
        let mid = start + split(end - start);
        if index < mid {
            top_down.push(range_hash(store, kind, mid, end)?);
            end = mid;
        } else {
            top_down.push(range_hash(store, kind, start, mid)?);
            start = mid;
        }
    }
    top_down.reverse();
    Ok(top_down)
}

/// The consistency proof from the tree of `old_size` leaves to the tree of `new_size` leaves, RFC 6962 §2.1.2
/// `PROOF(m, D[n]) = SUBPROOF(m, D[n], true)`. Empty when the sizes are equal or the old tree is empty (RFC 6962
/// defines proofs for 0 < m < n only; nothing is to be proven otherwise). O(log n) gets.
pub fn consistency_proof<S: NodeStore + ?Sized>(
    store: &mut S,
    kind: TreeHash,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, TreeError<S::Error>> {
    if old_size > new_size {
        return Err(TreeError::SizeOrder { old: old_size, new: new_size });
    }
    let mut top_down = Vec::new();
    if old_size == 0 || old_size == new_size {
        return Ok(top_down);
    }
    // SUBPROOF(m, D[start:end], b), with m counted from start.
    let (mut m, mut start, mut end, mut b) = (old_size, 0u64, new_size, true);
    loop {
        let n = end - start;
        if m == n {
            // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}.
            if !b {
                top_down.push(range_hash(store, kind, start, end)?);
            }
            break;
        }
        let k = split(n);
        if m <= k {
            // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            top_down.push(range_hash(store, kind, start + k, end)?);
            end = start + k;
        } else {
            // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            top_down.push(range_hash(store, kind, start, start + k)?);
            m -= k;
            start += k;
            b = false;
        }
    }
    top_down.reverse();
    Ok(top_down)
}

/// Verify an inclusion proof, RFC 9162 §2.1.3.2: leaf hash `leaf_hash` is at `index` in the tree of `size` leaves
/// with root `root`.
pub fn verify_inclusion(kind: TreeHash, leaf_hash: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = kind.node(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = kind.node(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// Verify a consistency proof, RFC 9162 §2.1.4.2: the tree of `old_size` leaves with root `old_root` is a prefix of
/// the tree of `new_size` leaves with root `new_root`. Outside the RFC's 0 < old < new: equal sizes need an empty
/// proof and equal roots; an empty old tree needs an empty proof and the empty root as `old_root`.
pub fn verify_consistency(
    kind: TreeHash,
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == 0 {
        return proof.is_empty() && *old_root == kind.empty_root() && (new_size > 0 || new_root == old_root);
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    // 1. An empty proof fails.
    let Some((first, rest)) = proof.split_first() else { return false };
    // 2. If old_size is a power of two, old_root is prepended to the path.
    let (start, path): (&Hash, &[Hash]) = if old_size.is_power_of_two() { (old_root, proof) } else { (first, rest) };
    // 3., 4.
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5.
    let (mut fr, mut sr) = (*start, *start);
    // 6.
    for c in path {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = kind.node(c, &fr);
            sr = kind.node(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = kind.node(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7.
    fr == *old_root && sr == *new_root && sn == 0
}

/// Nodes in memory, for tests and for rebuilding a tree from the events (fsck). Refuses to change a written node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemStore {
    nodes: std::collections::BTreeMap<(u8, u64), Hash>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemStoreError {
    #[error("node ({level}, {index}) already holds a different hash")]
    Conflict { level: u8, index: u64 },
}

impl MemStore {
    pub fn new() -> MemStore {
        MemStore::default()
    }

    /// A store holding the tree of these leaf hashes, and its size.
    pub fn from_leaves(
        kind: TreeHash,
        leaf_hashes: impl IntoIterator<Item = Hash>,
    ) -> Result<(MemStore, u64), TreeError<MemStoreError>> {
        let mut store = MemStore::new();
        let mut size = 0;
        for h in leaf_hashes {
            size = append(&mut store, kind, size, h)?;
        }
        Ok((store, size))
    }

    /// The number of stored nodes (2n − popcount(n) for a tree of n leaves).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every node as (level, index, hash), by level then index: to compare with a database's nodes.
    pub fn iter(&self) -> impl Iterator<Item = (u8, u64, &Hash)> + '_ {
        self.nodes.iter().map(|((l, i), h)| (*l, *i, h))
    }
}

impl NodeStore for MemStore {
    type Error = MemStoreError;

    fn get(&mut self, level: u8, index: u64) -> Result<Option<Hash>, MemStoreError> {
        Ok(self.nodes.get(&(level, index)).copied())
    }

    fn put(&mut self, level: u8, index: u64, hash: Hash) -> Result<(), MemStoreError> {
        match self.nodes.get(&(level, index)) {
            Some(old) if *old != hash => Err(MemStoreError::Conflict { level, index }),
            Some(_) => Ok(()),
            None => {
                self.nodes.insert((level, index), hash);
                Ok(())
            }
        }
    }
}

// ---- Checkpoints as signed notes ----

/// The signed-note signature type of the seal's SM2 signatures: SM2 has no assigned identifier byte, so this is
/// the private-use byte `0xFF` followed by a longer identifier, as c2sp.org/signed-note recommends for such types.
pub const SIG_TYPE_SM2: &[u8] = b"\xffoneseal.sm2-sm3.v1";

/// Verifiers must accept at least 16 signatures; we accept up to 100, like Go's golang.org/x/mod/sumdb/note.
pub const MAX_SIGNATURES: usize = 100;

const SIG_PREFIX: &str = "\u{2014} ";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("the origin must be non-empty and free of control characters")]
    BadOrigin,
    #[error("key names must be non-empty, without spaces or '+'")]
    BadKeyName,
    #[error("malformed signed note: {0}")]
    Malformed(&'static str),
    #[error("malformed checkpoint: {0}")]
    BadCheckpoint(&'static str),
    #[error("more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    #[error("the signer returned an empty signature")]
    EmptySignature,
    #[error("no signature by the expected key")]
    NotSigned,
    #[error("a signature by the expected key does not verify")]
    BadSignature,
}

impl NoteError {
    pub fn code(&self) -> &'static str {
        match self {
            NoteError::BadOrigin => "note_bad_origin",
            NoteError::BadKeyName => "note_bad_key_name",
            NoteError::Malformed(_) => "note_malformed",
            NoteError::BadCheckpoint(_) => "note_bad_checkpoint",
            NoteError::TooManySignatures => "note_too_many_signatures",
            NoteError::EmptySignature => "note_empty_signature",
            NoteError::NotSigned => "note_not_signed",
            NoteError::BadSignature => "note_bad_signature",
        }
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: [u8; 4],
    pub signature: Vec<u8>,
}

/// A parsed checkpoint. `body` is the signed text (with its final newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Extension lines after the root (opaque; we never write any).
    pub extensions: Vec<String>,
    pub body: String,
    pub signatures: Vec<NoteSignature>,
}

/// The signed-note key id: the first 4 bytes of SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key).
pub fn note_key_id(key_name: &str, sig_type: &[u8], public_key: &[u8]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(key_name.as_bytes());
    h.update([0x0a]);
    h.update(sig_type);
    h.update(public_key);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The key id of the seal's SM2 key under a key name: the first 4 bytes of
/// SHA-256(key name ‖ 0x0A ‖ [`SIG_TYPE_SM2`] ‖ the 65-byte uncompressed SEC1 point 0x04 ‖ X ‖ Y), i.e.
/// `SHA-256(name ‖ "\n" ‖ 0xFF ‖ "oneseal.sm2-sm3.v1" ‖ 0x04 ‖ X ‖ Y)[..4]`. The signatures are the seal's DER
/// SM2-with-SM3 signatures (distinguishing ID `1234567812345678`) over the note text.
pub fn sm2_note_key_id(key_name: &str, public: &sm2::PublicKey) -> [u8; 4] {
    note_key_id(key_name, SIG_TYPE_SM2, public.to_sec1_point(false).as_bytes())
}

fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c < ' ' && c != '\n')
}

/// The checkpoint body: `<origin>\n<size>\n<base64 root>\n`.
pub fn checkpoint_body(origin: &str, size: u64, root: &Hash) -> Result<String, NoteError> {
    if origin.is_empty() || origin.contains('\n') || has_control(origin) {
        return Err(NoteError::BadOrigin);
    }
    Ok(format!("{origin}\n{size}\n{}\n", B64.encode(root)))
}

/// Sign a note text: the text, a blank line, and `— <key name> <base64(key id ‖ sign(text))>\n`.
pub fn sign_note(
    text: &str,
    key_name: &str,
    key_id: [u8; 4],
    sign: impl Fn(&[u8]) -> Vec<u8>,
) -> Result<String, NoteError> {
    if !valid_key_name(key_name) {
        return Err(NoteError::BadKeyName);
    }
    if text.is_empty() || !text.ends_with('\n') || has_control(text) {
        return Err(NoteError::Malformed("the text must end in a newline and hold no control characters"));
    }
    let sig = sign(text.as_bytes());
    if sig.is_empty() {
        return Err(NoteError::EmptySignature);
    }
    let mut blob = Vec::with_capacity(4 + sig.len());
    blob.extend_from_slice(&key_id);
    blob.extend_from_slice(&sig);
    Ok(format!("{text}\n{SIG_PREFIX}{key_name} {}\n", B64.encode(blob)))
}

/// Build and sign a checkpoint.
pub fn sign_checkpoint(
    origin: &str,
    size: u64,
    root: &Hash,
    key_name: &str,
    key_id: [u8; 4],
    sign: impl Fn(&[u8]) -> Vec<u8>,
) -> Result<String, NoteError> {
    sign_note(&checkpoint_body(origin, size, root)?, key_name, key_id, sign)
}

/// Split a signed note into its text and signature lines (no signature is checked). The text ends at the last blank
/// line, as c2sp.org/signed-note says.
pub fn parse_note(note: &str) -> Result<(&str, Vec<NoteSignature>), NoteError> {
    if has_control(note) {
        return Err(NoteError::Malformed("control characters"));
    }
    let split = note.rfind("\n\n").ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(NoteError::Malformed("no signature lines, or no final newline"));
    }
    let mut out = Vec::new();
    for line in sigs[..sigs.len() - 1].split('\n') {
        if out.len() == MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let rest = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed("a signature line lacks '— '"))?;
        let (name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed("a signature line lacks a space"))?;
        if !valid_key_name(name) {
            return Err(NoteError::BadKeyName);
        }
        let raw = B64.decode(b64).map_err(|_| NoteError::Malformed("a signature is not base64"))?;
        if raw.len() < 5 {
            return Err(NoteError::Malformed("a signature is shorter than 5 bytes"));
        }
        let (id, sig) = raw.split_at(4);
        out.push(NoteSignature {
            name: name.to_string(),
            key_id: [id[0], id[1], id[2], id[3]],
            signature: sig.to_vec(),
        });
    }
    Ok((text, out))
}

/// Parse a checkpoint (structure only: no signature is checked; see [`verify_checkpoint`]).
pub fn parse_checkpoint(note: &str) -> Result<Checkpoint, NoteError> {
    let (body, signatures) = parse_note(note)?;
    let mut lines = body.strip_suffix('\n').unwrap_or(body).split('\n');
    let origin = lines.next().unwrap_or("");
    if origin.is_empty() {
        return Err(NoteError::BadCheckpoint("empty origin"));
    }
    let size_line = lines.next().ok_or(NoteError::BadCheckpoint("no tree size"))?;
    let canonical = !size_line.is_empty()
        && size_line.bytes().all(|b| b.is_ascii_digit())
        && (size_line == "0" || !size_line.starts_with('0'));
    if !canonical {
        return Err(NoteError::BadCheckpoint("the tree size is not a canonical decimal"));
    }
    let size: u64 = size_line.parse().map_err(|_| NoteError::BadCheckpoint("the tree size is too large"))?;
    let root_line = lines.next().ok_or(NoteError::BadCheckpoint("no root hash"))?;
    let raw = B64.decode(root_line).map_err(|_| NoteError::BadCheckpoint("the root hash is not base64"))?;
    let root: Hash = raw.try_into().map_err(|_| NoteError::BadCheckpoint("the root hash is not 32 bytes"))?;
    let extensions: Vec<String> = lines.map(str::to_string).collect();
    if extensions.iter().any(String::is_empty) {
        return Err(NoteError::BadCheckpoint("empty extension line"));
    }
    Ok(Checkpoint { origin: origin.to_string(), size, root, extensions, body: body.to_string(), signatures })
}

/// Parse a checkpoint and check it is signed by the key (`key_name`, `key_id`): signatures by other keys are
/// ignored; every signature by this key must verify (`verify(text, signature)`), and there must be at least one.
/// The caller still checks that the origin is the expected log's.
pub fn verify_checkpoint(
    note: &str,
    key_name: &str,
    key_id: [u8; 4],
    verify: impl Fn(&[u8], &[u8]) -> bool,
) -> Result<Checkpoint, NoteError> {
    let cp = parse_checkpoint(note)?;
    let mut verified = false;
    for s in cp.signatures.iter().filter(|s| s.name == key_name && s.key_id == key_id) {
        if !verify(cp.body.as_bytes(), &s.signature) {
            return Err(NoteError::BadSignature);
        }
        verified = true;
    }
    if verified {
        Ok(cp)
    } else {
        Err(NoteError::NotSigned)
    }
}
