//! The Merkle tree of the transparency log: RFC 6962 known answers from transparency-dev/merkle
//! (testdata/rfc6962_vectors.json), properties against a naive implementation of the RFC's definitions for every
//! tree size up to 70 with both hash functions, the number of store operations, and checkpoints as signed notes.

use std::collections::BTreeMap;

use oneseal_seal::merkle::*;
use oneseal_seal::seal::{self, SealKey};

// ---- A small JSON reader (the crate has no serde; the vectors file is plain JSON) ----

#[derive(Debug, Clone)]
enum Json {
    Null,
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(m) => m.get(key).unwrap_or_else(|| panic!("no key {key}")),
            _ => panic!("not an object"),
        }
    }
    fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            _ => panic!("not an array: {self:?}"),
        }
    }
    fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            _ => panic!("not a string: {self:?}"),
        }
    }
    fn u64(&self) -> u64 {
        match self {
            Json::Num(n) if n.fract() == 0.0 && *n >= 0.0 => *n as u64,
            _ => panic!("not a count: {self:?}"),
        }
    }
    fn hash(&self) -> Hash {
        hex(self.str()).try_into().unwrap()
    }
    fn hashes(&self) -> Vec<Hash> {
        self.arr().iter().map(Json::hash).collect()
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(self.s[self.i], c, "at byte {}", self.i);
        self.i += 1;
    }
    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut m = BTreeMap::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Json::Obj(m);
                }
                loop {
                    self.ws();
                    let Json::Str(k) = self.value() else { panic!("key") };
                    self.eat(b':');
                    m.insert(k, self.value());
                    self.ws();
                    self.i += 1;
                    if self.s[self.i - 1] == b'}' {
                        return Json::Obj(m);
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Json::Arr(a);
                }
                loop {
                    a.push(self.value());
                    self.ws();
                    self.i += 1;
                    if self.s[self.i - 1] == b']' {
                        return Json::Arr(a);
                    }
                }
            }
            b'"' => {
                self.i += 1;
                let start = self.i;
                while self.s[self.i] != b'"' {
                    assert_ne!(self.s[self.i], b'\\', "no escapes in the vectors file");
                    self.i += 1;
                }
                self.i += 1;
                Json::Str(String::from_utf8(self.s[start..self.i - 1].to_vec()).unwrap())
            }
            b'n' => {
                self.i += 4;
                Json::Null
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len() && (self.s[self.i].is_ascii_digit() || b"-+.eE".contains(&self.s[self.i])) {
                    self.i += 1;
                }
                Json::Num(std::str::from_utf8(&self.s[start..self.i]).unwrap().parse().unwrap())
            }
        }
    }
}

fn vectors() -> Json {
    let text = include_str!("../testdata/rfc6962_vectors.json");
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    let v = p.value();
    p.ws();
    assert_eq!(p.i, text.len());
    v
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2));
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

// ---- The RFC 6962 definitions, written naively over all the leaves ----

fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(kind: TreeHash, d: &[Hash]) -> Hash {
    match d.len() {
        0 => kind.empty_root(),
        1 => d[0],
        n => {
            let k = k_of(n);
            kind.node(&mth(kind, &d[..k]), &mth(kind, &d[k..]))
        }
    }
}

fn path(kind: TreeHash, m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n == 1 {
        return vec![];
    }
    let k = k_of(n);
    if m < k {
        let mut p = path(kind, m, &d[..k]);
        p.push(mth(kind, &d[k..]));
        p
    } else {
        let mut p = path(kind, m - k, &d[k..]);
        p.push(mth(kind, &d[..k]));
        p
    }
}

fn subproof(kind: TreeHash, m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(kind, d)] };
    }
    let k = k_of(n);
    if m <= k {
        let mut p = subproof(kind, m, &d[..k], b);
        p.push(mth(kind, &d[k..]));
        p
    } else {
        let mut p = subproof(kind, m - k, &d[k..], false);
        p.push(mth(kind, &d[..k]));
        p
    }
}

fn proof(kind: TreeHash, m: usize, d: &[Hash]) -> Vec<Hash> {
    if m == 0 {
        vec![]
    } else {
        subproof(kind, m, d, true)
    }
}

/// A deterministic pseudo-random generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn bytes(&mut self) -> Vec<u8> {
        let len = (self.next() % 48) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn flip(h: &Hash, bit: u8) -> Hash {
    let mut h = *h;
    h[0] ^= bit;
    h
}

// ---- (1) Known answers ----

#[test]
fn rfc6962_hasher_known_answers() {
    let v = vectors();
    let kind = TreeHash::Sha256;
    assert_eq!(v.get("hash").str(), kind.name());
    assert_eq!(kind.empty_root(), v.get("empty_root").hash());
    for case in v.get("leaf_hashes").arr() {
        assert_eq!(kind.leaf(&hex(case.get("data_hex").str())), case.get("hash").hash());
    }
    // SM3 trees, against `openssl dgst -sm3`: SM3(""), SM3(0x00 ‖ "abc"), SM3(0x01 ‖ 0x00..0x1f ‖ 0x20..0x3f).
    let sm3 = TreeHash::Sm3;
    assert_eq!(sm3.empty_root().to_vec(), hex("1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"));
    assert_eq!(sm3.leaf(b"abc").to_vec(), hex("a7fe0cdcc2194aa7a9c6bfad5637581bf051d935a10bb6a9ccabfce125c27d96"));
    let (left, right): (Hash, Hash) = (std::array::from_fn(|i| i as u8), std::array::from_fn(|i| 32 + i as u8));
    assert_eq!(
        sm3.node(&left, &right).to_vec(),
        hex("aa79e2224b05ca65ebc33bc9f7b6316f9d12380087a12b33947719cfb1394b86")
    );
    assert_eq!(TreeHash::from_name("sm3"), Some(TreeHash::Sm3));
    assert_eq!(TreeHash::from_name("sha256"), Some(TreeHash::Sha256));
    assert_eq!(TreeHash::from_name("md5"), None);
}

fn reference_tree() -> (MemStore, Vec<Hash>, Vec<Hash>) {
    let v = vectors();
    let kind = TreeHash::Sha256;
    let leaves: Vec<Hash> = v.get("leaves_hex").arr().iter().map(|l| kind.leaf(&hex(l.str()))).collect();
    assert_eq!(leaves.len(), 8);
    let mut store = MemStore::new();
    let mut roots = vec![kind.empty_root()];
    for (i, l) in leaves.iter().enumerate() {
        assert_eq!(append(&mut store, kind, i as u64, *l).unwrap(), i as u64 + 1);
        roots.push(root(&mut store, kind, i as u64 + 1).unwrap());
    }
    (store, leaves, roots)
}

#[test]
fn rfc6962_roots_known_answers() {
    let v = vectors();
    let (mut store, _, roots_while_growing) = reference_tree();
    let cases = v.get("roots").arr();
    assert_eq!(cases.len(), 8);
    for case in cases {
        let size = case.get("size").u64();
        let want = case.get("root").hash();
        assert_eq!(roots_while_growing[size as usize], want, "root of size {size} when it was the whole tree");
        assert_eq!(root(&mut store, TreeHash::Sha256, size).unwrap(), want, "root of size {size} from the 8-leaf tree");
    }
}

#[test]
fn rfc6962_inclusion_known_answers() {
    let v = vectors();
    let kind = TreeHash::Sha256;
    let (mut store, leaves, roots) = reference_tree();
    let some_hash = hex("abacaba000000000000000000000000000000000000000000060061e00123456").try_into().unwrap();
    for case in v.get("inclusion").arr() {
        let (index, size) = (case.get("index").u64(), case.get("size").u64());
        let want = case.get("proof").hashes();
        let got = inclusion_proof(&mut store, kind, index, size).unwrap();
        assert_eq!(got, want, "inclusion proof of {index} in {size}");
        let (leaf, root) = (leaves[index as usize], roots[size as usize]);
        assert!(verify_inclusion(kind, &leaf, index, size, &want, &root));

        // The corruptions of transparency-dev/merkle's verify_test.go (corruptInclusionProof): all must fail.
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>, String)> = vec![
            (index.wrapping_sub(1), size, leaf, root, want.clone(), "index - 1".into()),
            (index + 1, size, leaf, root, want.clone(), "index + 1".into()),
            (index ^ 2, size, leaf, root, want.clone(), "index ^ 2".into()),
            (index, size * 2, leaf, root, want.clone(), "size * 2".into()),
            (index, size / 2, leaf, root, want.clone(), "size / 2".into()),
            (index, size, kind.leaf(b"WrongLeaf"), root, want.clone(), "wrong leaf".into()),
            (index, size, leaf, kind.empty_root(), want.clone(), "empty root".into()),
            (index, size, leaf, some_hash, want.clone(), "random root".into()),
            (index, size, leaf, root, [want.clone(), vec![[0; 32]]].concat(), "trailing garbage".into()),
            (index, size, leaf, root, [want.clone(), vec![root]].concat(), "trailing root".into()),
            (index, size, leaf, root, [vec![[0; 32]], want.clone()].concat(), "preceding garbage".into()),
            (index, size, leaf, root, [vec![root], want.clone()].concat(), "preceding root".into()),
        ];
        for i in 0..want.len() {
            let mut p = want.clone();
            p[i] = flip(&p[i], 8);
            probes.push((index, size, leaf, root, p, format!("modified proof[{i}] bit 3")));
        }
        if !want.is_empty() {
            probes.push((index, size, leaf, root, want[..want.len() - 1].to_vec(), "removed component".into()));
        }
        if want.len() > 1 {
            let p = [vec![want[0], some_hash], want[1..].to_vec()].concat();
            probes.push((index, size, leaf, root, p, "inserted component".into()));
        }
        for (i, s, l, r, p, desc) in probes {
            assert!(!verify_inclusion(kind, &l, i, s, &p, &r), "{index} in {size}: {desc} verified");
        }
    }
}

#[test]
fn rfc6962_consistency_known_answers() {
    let v = vectors();
    let kind = TreeHash::Sha256;
    let (mut store, _, roots) = reference_tree();
    for case in v.get("consistency").arr() {
        let (m, n) = (case.get("old_size").u64(), case.get("new_size").u64());
        let want = case.get("proof").hashes();
        assert_eq!(consistency_proof(&mut store, kind, m, n).unwrap(), want, "consistency proof {m} -> {n}");
        let (r1, r2) = (roots[m as usize], roots[n as usize]);
        assert!(verify_consistency(kind, m, n, &r1, &r2, &want));
        if want.is_empty() {
            continue;
        }
        // The corruptions of verify_test.go (corruptConsistencyProof): all must fail.
        let wrong = kind.leaf(b"WrongRoot");
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>, String)> = vec![
            (m - 1, n, r1, r2, want.clone(), "size1 - 1".into()),
            (m + 1, n, r1, r2, want.clone(), "size1 + 1".into()),
            (m ^ 2, n, r1, r2, want.clone(), "size1 ^ 2".into()),
            (m, n * 2, r1, r2, want.clone(), "size2 * 2".into()),
            (m, n / 2, r1, r2, want.clone(), "size2 / 2".into()),
            (m, n, wrong, r2, want.clone(), "wrong root1".into()),
            (m, n, r1, wrong, want.clone(), "wrong root2".into()),
            (m, n, r2, r1, want.clone(), "swapped roots".into()),
            (m, n, r1, r2, vec![], "empty proof".into()),
            (m, n, r1, r2, [want.clone(), vec![[0; 32]]].concat(), "trailing garbage".into()),
            (m, n, r1, r2, [want.clone(), vec![r1]].concat(), "trailing root1".into()),
            (m, n, r1, r2, [want.clone(), vec![r2]].concat(), "trailing root2".into()),
            (m, n, r1, r2, [vec![[0; 32]], want.clone()].concat(), "preceding garbage".into()),
            (m, n, r1, r2, [vec![r1], want.clone()].concat(), "preceding root1".into()),
            (m, n, r1, r2, [vec![r2], want.clone()].concat(), "preceding root2".into()),
            (m, n, r1, r2, [vec![want[0]], want.clone()].concat(), "preceding proof[0]".into()),
            (m, n, r1, r2, want[..want.len() - 1].to_vec(), "truncated proof".into()),
        ];
        for i in 0..want.len() {
            let mut p = want.clone();
            p[i] = flip(&p[i], 16);
            probes.push((m, n, r1, r2, p, format!("modified proof[{i}] bit 4")));
        }
        for (a, b, x, y, p, desc) in probes {
            assert!(!verify_consistency(kind, a, b, &x, &y, &p), "{m} -> {n}: {desc} verified");
        }
    }
}

/// The layouts of proof_test.go: which stored nodes each proof is made of, in order, on trees up to 95 leaves.
#[test]
fn reference_node_layouts() {
    let v = vectors();
    let kind = TreeHash::Sha256;
    let mut rng = Rng(95);
    let leaves: Vec<Hash> = (0..95).map(|_| kind.leaf(&rng.bytes())).collect();
    let (mut store, size) = MemStore::from_leaves(kind, leaves.iter().copied()).unwrap();
    assert_eq!(size, 95);
    let expected = |case: &Json| -> Vec<Hash> {
        let mut hashes: Vec<Hash> = case
            .get("ids")
            .arr()
            .iter()
            .map(|id| {
                let (level, index) = (id.arr()[0].u64(), id.arr()[1].u64());
                let start = (index << level) as usize;
                mth(kind, &leaves[start..start + (1usize << level)])
            })
            .collect();
        if let Json::Arr(r) = case.get("rehash") {
            let (begin, end) = (r[0].u64() as usize, r[1].u64() as usize);
            let mut h = hashes[begin];
            for x in &hashes[begin + 1..end] {
                h = kind.node(x, &h);
            }
            hashes.splice(begin..end, [h]);
        }
        hashes
    };
    for case in v.get("inclusion_layouts").arr() {
        let (index, size) = (case.get("index").u64(), case.get("size").u64());
        assert_eq!(inclusion_proof(&mut store, kind, index, size).unwrap(), expected(case), "{index} in {size}");
    }
    for case in v.get("consistency_layouts").arr() {
        let (m, n) = (case.get("old_size").u64(), case.get("new_size").u64());
        assert_eq!(consistency_proof(&mut store, kind, m, n).unwrap(), expected(case), "{m} -> {n}");
    }
}

// ---- (2) Properties for every size up to 70, both hash functions ----

fn properties(kind: TreeHash, seed: u64) {
    const MAX: usize = 70;
    let mut rng = Rng(seed);
    let mut store = MemStore::new();
    let mut leaves: Vec<Hash> = Vec::new();
    let mut roots = vec![kind.empty_root()];
    // Every proof as it was when its size was the whole tree: (index or old size, size) -> proof.
    let mut seen: BTreeMap<(&str, usize, usize), Vec<Hash>> = BTreeMap::new();
    assert_eq!(root(&mut store, kind, 0).unwrap(), kind.empty_root());
    for n in 1..=MAX {
        let leaf = kind.leaf(&rng.bytes());
        assert_eq!(append(&mut store, kind, (n - 1) as u64, leaf).unwrap(), n as u64);
        leaves.push(leaf);
        let r = root(&mut store, kind, n as u64).unwrap();
        assert_eq!(r, mth(kind, &leaves), "{kind:?} root of {n}");
        roots.push(r);
        let nu = n as u64;
        for i in 0..n {
            let iu = i as u64;
            let p = inclusion_proof(&mut store, kind, iu, nu).unwrap();
            assert_eq!(p, path(kind, i, &leaves), "{kind:?} path of {i} in {n}");
            seen.insert(("inclusion", i, n), p.clone());
            assert!(verify_inclusion(kind, &leaves[i], iu, nu, &p, &r), "{kind:?} {i} in {n}");
            let other = (i + 1) % n;
            if other != i {
                assert!(!verify_inclusion(kind, &leaves[i], other as u64, nu, &p, &r), "{i} as {other} in {n}");
                assert!(!verify_inclusion(kind, &leaves[other], iu, nu, &p, &r), "leaf {other} as {i} in {n}");
            }
            assert!(!verify_inclusion(kind, &flip(&leaves[i], 1), iu, nu, &p, &r));
            // (A wrong size is not always caught: the proof of 0 in 3 leaves also checks as 0 in 4 against the same
            // root, since sizes 3 and 4 hash the same way from leaf 0. The root, signed with its size, binds it.)
            assert!(!verify_inclusion(kind, &leaves[i], iu, nu, &p, &flip(&r, 1)));
            assert!(!verify_inclusion(kind, &leaves[i], nu, nu, &p, &r));
            for j in 0..p.len() {
                let mut q = p.clone();
                q[j] = flip(&q[j], 2);
                assert!(!verify_inclusion(kind, &leaves[i], iu, nu, &q, &r));
            }
        }
        for m in 0..=n {
            let mu = m as u64;
            let p = consistency_proof(&mut store, kind, mu, nu).unwrap();
            assert_eq!(p, proof(kind, m, &leaves), "{kind:?} proof {m} -> {n}");
            seen.insert(("consistency", m, n), p.clone());
            assert!(verify_consistency(kind, mu, nu, &roots[m], &r, &p), "{kind:?} {m} -> {n}");
            assert!(!verify_consistency(kind, mu, nu, &flip(&roots[m], 1), &r, &p), "wrong old root {m} -> {n}");
            if m == 0 {
                // Nothing ties an empty tree to any new root: the proof is empty and only the old root is checked.
                assert!(p.is_empty() && verify_consistency(kind, 0, nu, &roots[0], &flip(&r, 1), &p));
            } else {
                assert!(!verify_consistency(kind, mu, nu, &roots[m], &flip(&r, 1), &p), "wrong new root {m} -> {n}");
            }
            if m > 0 && m < n {
                assert!(!verify_consistency(kind, nu, mu, &r, &roots[m], &p), "backwards {m} -> {n}");
                assert!(!verify_consistency(kind, mu, nu, &roots[m], &r, &p[..p.len() - 1]), "short {m} -> {n}");
                assert!(!verify_consistency(kind, mu, nu, &roots[m], &r, &[p.clone(), vec![r]].concat()));
                assert!(!verify_consistency(kind, mu + 1, nu, &roots[m + 1], &r, &p), "other size {m} -> {n}");
            }
        }
    }
    // Past sizes from the grown tree give the same roots and proofs.
    for n in 1..=MAX {
        let nu = n as u64;
        assert_eq!(root(&mut store, kind, nu).unwrap(), roots[n]);
        for i in 0..n {
            assert_eq!(inclusion_proof(&mut store, kind, i as u64, nu).unwrap(), seen[&("inclusion", i, n)]);
        }
        for m in 0..=n {
            assert_eq!(consistency_proof(&mut store, kind, m as u64, nu).unwrap(), seen[&("consistency", m, n)]);
        }
    }
    // Every node was written once: 2n - popcount(n) of them.
    assert_eq!(store.len(), 2 * MAX - (MAX as u64).count_ones() as usize);
    assert!(store.iter().all(|(l, i, h)| *h == mth(kind, &leaves[(i << l) as usize..((i + 1) << l) as usize])));
}

#[test]
fn properties_sha256() {
    properties(TreeHash::Sha256, 1);
}

#[test]
fn properties_sm3() {
    properties(TreeHash::Sm3, 2);
}

#[test]
fn sm3_and_sha256_trees_differ() {
    let leaves = [b"a".as_slice(), b"b", b"c"];
    let r = |kind: TreeHash| {
        let (mut s, n) = MemStore::from_leaves(kind, leaves.iter().map(|d| kind.leaf(d))).unwrap();
        root(&mut s, kind, n).unwrap()
    };
    assert_ne!(r(TreeHash::Sm3), r(TreeHash::Sha256));
}

#[test]
fn errors() {
    let kind = TreeHash::Sm3;
    let (mut store, n) = MemStore::from_leaves(kind, (0..5u8).map(|i| kind.leaf(&[i]))).unwrap();
    assert_eq!(inclusion_proof(&mut store, kind, 5, 5), Err(TreeError::IndexOutOfRange { index: 5, size: 5 }));
    assert_eq!(inclusion_proof(&mut store, kind, 0, 0), Err(TreeError::IndexOutOfRange { index: 0, size: 0 }));
    assert_eq!(consistency_proof(&mut store, kind, 4, 3), Err(TreeError::SizeOrder { old: 4, new: 3 }));
    // Beyond the stored tree: node (1, 2) over leaves 4 and 5 was never written.
    assert_eq!(root(&mut store, kind, n + 1), Err(TreeError::MissingNode { level: 1, index: 2 }));
    assert_eq!(root(&mut store, kind, n + 1).unwrap_err().code(), "merkle_missing_node");
    // Appending at a size that is already taken would change a node: the store refuses.
    let e = append(&mut store, kind, 3, kind.leaf(b"x")).unwrap_err();
    assert_eq!(e, TreeError::Store(MemStoreError::Conflict { level: 0, index: 3 }));
    assert_eq!(e.to_string(), "node store: node (0, 3) already holds a different hash");
    // Appending past a gap needs the missing left sibling.
    let mut gap = MemStore::new();
    assert_eq!(append(&mut gap, kind, 1, kind.leaf(b"x")), Err(TreeError::MissingNode { level: 0, index: 0 }));
    assert_eq!(append(&mut MemStore::new(), kind, u64::MAX, [0; 32]), Err(TreeError::Full));
    // Consistency with an empty old tree: nothing to prove, but the old root must be the empty root.
    let r5 = root(&mut store, kind, 5).unwrap();
    assert!(verify_consistency(kind, 0, 5, &kind.empty_root(), &r5, &[]));
    assert!(!verify_consistency(kind, 0, 5, &r5, &r5, &[]));
    assert!(!verify_consistency(kind, 0, 5, &kind.empty_root(), &r5, &[r5]));
    assert!(verify_consistency(kind, 0, 0, &kind.empty_root(), &kind.empty_root(), &[]));
    assert!(!verify_consistency(kind, 0, 0, &kind.empty_root(), &r5, &[]));
    assert!(!verify_inclusion(kind, &r5, 0, 0, &[], &r5));
}

// ---- (4) Store operations ----

#[derive(Default)]
struct Counting {
    inner: MemStore,
    gets: u32,
    puts: u32,
}

impl Counting {
    fn reset(&mut self) {
        self.gets = 0;
        self.puts = 0;
    }
}

impl NodeStore for Counting {
    type Error = MemStoreError;
    fn get(&mut self, level: u8, index: u64) -> Result<Option<Hash>, MemStoreError> {
        self.gets += 1;
        self.inner.get(level, index)
    }
    fn put(&mut self, level: u8, index: u64, hash: Hash) -> Result<(), MemStoreError> {
        self.puts += 1;
        self.inner.put(level, index, hash)
    }
}

fn ceil_log2(n: u64) -> u32 {
    if n <= 1 {
        0
    } else {
        64 - (n - 1).leading_zeros()
    }
}

#[test]
fn store_operations_are_logarithmic() {
    let kind = TreeHash::Sha256;
    let mut s = Counting::default();
    let mut max_proof_gets = 0;
    const N: u64 = 1 << 14;
    for n in 1..=N + 3 {
        s.reset();
        append(&mut s, kind, n - 1, kind.leaf(&n.to_be_bytes())).unwrap();
        assert!(s.puts <= ceil_log2(n) + 1, "append to {n}: {} puts", s.puts);
        assert_eq!(s.puts, 1 + (n - 1).trailing_ones(), "append to {n}");
        assert!(s.gets <= ceil_log2(n), "append to {n}: {} gets", s.gets);
        s.reset();
        root(&mut s, kind, n).unwrap();
        assert_eq!(s.gets, n.count_ones(), "root of {n}");
        assert!(s.gets <= ceil_log2(n) + 1);
        assert_eq!(s.puts, 0);
        // Proofs: every index and old size for small trees, a spread for some large ones.
        let edge = n.is_power_of_two() || (n - 1).is_power_of_two() || (n + 1).is_power_of_two();
        let probes: Vec<u64> = if n <= 300 {
            (0..n).collect()
        } else if edge || n % 1021 == 0 {
            (0..n).step_by((n / 37) as usize).chain([n - 2, n - 1]).collect()
        } else {
            vec![]
        };
        for &i in &probes {
            s.reset();
            inclusion_proof(&mut s, kind, i, n).unwrap();
            assert!(s.gets <= 2 * ceil_log2(n), "inclusion {i} in {n}: {} gets", s.gets);
            max_proof_gets = max_proof_gets.max(s.gets);
            s.reset();
            consistency_proof(&mut s, kind, i + 1, n).unwrap();
            assert!(s.gets <= 2 * ceil_log2(n) + 1, "consistency {} -> {n}: {} gets", i + 1, s.gets);
            assert_eq!(s.puts, 0);
        }
    }
    assert!(max_proof_gets <= 2 * ceil_log2(N + 3));
}

// ---- (3) Checkpoints ----

const ORIGIN: &str = "oneseal.example/log";

fn seal_key() -> SealKey {
    SealKey::from_random([7u8; 32]).unwrap()
}

#[test]
fn checkpoint_body_format() {
    let root = TreeHash::Sha256.empty_root();
    assert_eq!(
        checkpoint_body(ORIGIN, 0, &root).unwrap(),
        "oneseal.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    );
    assert_eq!(checkpoint_body("", 1, &root), Err(NoteError::BadOrigin));
    assert_eq!(checkpoint_body("a\nb", 1, &root), Err(NoteError::BadOrigin));
    assert_eq!(checkpoint_body("a\tb", 1, &root), Err(NoteError::BadOrigin));
}

#[test]
fn checkpoint_sign_verify_round_trip_and_tampering() {
    let kind = TreeHash::Sm3;
    let (mut store, size) = MemStore::from_leaves(kind, (0..8u8).map(|i| kind.leaf(&[i]))).unwrap();
    let root_hash = root(&mut store, kind, size).unwrap();
    let key = seal_key();
    let pk = key.public_key();
    let kid = sm2_note_key_id(ORIGIN, &pk);
    let note = sign_checkpoint(ORIGIN, size, &root_hash, ORIGIN, kid, |m| key.sign(m)).unwrap();
    let body = checkpoint_body(ORIGIN, size, &root_hash).unwrap();
    assert!(note.starts_with(&format!("{body}\n\u{2014} {ORIGIN} ")), "{note}");
    assert!(note.ends_with('\n'));

    let verify = |m: &[u8], s: &[u8]| seal::verify(&pk, m, s);
    let cp = verify_checkpoint(&note, ORIGIN, kid, verify).unwrap();
    assert_eq!((cp.origin.as_str(), cp.size, cp.root), (ORIGIN, size, root_hash));
    assert_eq!(cp.body, body);
    assert!(cp.extensions.is_empty());
    assert_eq!(cp.signatures.len(), 1);
    assert_eq!(cp.signatures[0].name, ORIGIN);
    assert_eq!(cp.signatures[0].key_id, kid);
    assert_eq!(parse_checkpoint(&note).unwrap(), cp);

    // The key id is SHA-256(name ‖ 0x0A ‖ 0xFF ‖ "oneseal.sm2-sm3.v1" ‖ 0x04 ‖ X ‖ Y)[:4].
    use sm2::elliptic_curve::sec1::ToSec1Point;
    let point = pk.to_sec1_point(false);
    assert_eq!(point.as_bytes().len(), 65);
    let mut pre = format!("{ORIGIN}\n").into_bytes();
    pre.push(0xff);
    pre.extend_from_slice(b"oneseal.sm2-sm3.v1");
    pre.extend_from_slice(point.as_bytes());
    use sha2::Digest;
    assert_eq!(kid.as_slice(), &sha2::Sha256::digest(&pre)[..4]);
    assert_eq!(note_key_id(ORIGIN, SIG_TYPE_SM2, point.as_bytes()), kid);

    // A proof checked against the checkpoint's root.
    let p = inclusion_proof(&mut store, kind, 3, cp.size).unwrap();
    assert!(verify_inclusion(kind, &kind.leaf(&[3]), 3, cp.size, &p, &cp.root));

    // Tampered size or root: the signature no longer verifies.
    let bigger = note.replacen("\n8\n", "\n9\n", 1);
    assert_eq!(parse_checkpoint(&bigger).unwrap().size, 9);
    assert_eq!(verify_checkpoint(&bigger, ORIGIN, kid, verify), Err(NoteError::BadSignature));
    let other_root = kind.leaf(b"other");
    let swapped = note.replacen(
        &checkpoint_body(ORIGIN, size, &root_hash).unwrap(),
        &checkpoint_body(ORIGIN, size, &other_root).unwrap(),
        1,
    );
    assert_eq!(verify_checkpoint(&swapped, ORIGIN, kid, verify), Err(NoteError::BadSignature));

    // Tampered signature bytes.
    let sig_b64 = note.rsplit(' ').next().unwrap().trim_end();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut raw = b64.decode(sig_b64).unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 1;
    let bad_sig = note.replace(sig_b64, &b64.encode(&raw));
    assert_eq!(verify_checkpoint(&bad_sig, ORIGIN, kid, verify), Err(NoteError::BadSignature));

    // The wrong key, name or id: not signed by the expected key.
    let other = SealKey::from_random([9u8; 32]).unwrap();
    let other_pk = other.public_key();
    let other_kid = sm2_note_key_id(ORIGIN, &other_pk);
    assert_ne!(other_kid, kid);
    assert_eq!(
        verify_checkpoint(&note, ORIGIN, other_kid, |m: &[u8], s: &[u8]| seal::verify(&other_pk, m, s)),
        Err(NoteError::NotSigned)
    );
    assert_eq!(verify_checkpoint(&note, "someone.else/log", kid, verify), Err(NoteError::NotSigned));
    // A signature by the other key under our name and id (a forged id) is caught by verification.
    let forged = sign_checkpoint(ORIGIN, size, &root_hash, ORIGIN, kid, |m| other.sign(m)).unwrap();
    assert_eq!(verify_checkpoint(&forged, ORIGIN, kid, verify), Err(NoteError::BadSignature));

    // A cosignature by an unknown key is ignored; a bad one by a known key rejects the note.
    let cosigned = format!("{note}\u{2014} witness.example/w1 {}\n", b64.encode([1u8, 2, 3, 4, 5, 6]));
    let cp2 = verify_checkpoint(&cosigned, ORIGIN, kid, verify).unwrap();
    assert_eq!(cp2.signatures.len(), 2);
    assert_eq!(cp2.signatures[1].key_id, [1, 2, 3, 4]);
    let twice = format!("{note}\u{2014} {ORIGIN} {}\n", b64.encode([kid.as_slice(), &[0x30, 0x00]].concat()));
    assert_eq!(verify_checkpoint(&twice, ORIGIN, kid, verify), Err(NoteError::BadSignature));
}

#[test]
fn malformed_notes_and_checkpoints() {
    let key = seal_key();
    let kid = sm2_note_key_id(ORIGIN, &key.public_key());
    let root = TreeHash::Sha256.empty_root();
    let good = sign_checkpoint(ORIGIN, 10, &root, ORIGIN, kid, |m| key.sign(m)).unwrap();
    let sig_line = good.split("\n\n").nth(1).unwrap();
    let r64 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    let with_body = |b: &str| format!("{b}\n{sig_line}");
    assert!(parse_checkpoint(&with_body(&format!("{ORIGIN}\n10\n{r64}\n"))).is_ok());
    let bad_bodies = [
        format!("{ORIGIN}\n010\n{r64}\n"),
        format!("{ORIGIN}\n+10\n{r64}\n"),
        format!("{ORIGIN}\n\n{r64}\n"),
        format!("{ORIGIN}\n18446744073709551616\n{r64}\n"),
        format!("{ORIGIN}\n10\n{}\n", &r64[4..]),
        format!("{ORIGIN}\n10\nnot base64\n"),
        format!("{ORIGIN}\n10\n"),
        format!("\n10\n{r64}\n"),
    ];
    for b in bad_bodies {
        assert!(matches!(parse_checkpoint(&with_body(&b)), Err(NoteError::BadCheckpoint(_))), "{b:?}");
    }
    // Extension lines are kept (never written by us).
    let ext = parse_checkpoint(&with_body(&format!("{ORIGIN}\n10\n{r64}\nextra\n"))).unwrap();
    assert_eq!(ext.extensions, vec!["extra".to_string()]);

    let body = format!("{ORIGIN}\n10\n{r64}\n");
    for bad in [
        body.clone(),                                    // no signatures
        format!("{body}\n"),                             // blank line, no signature lines
        format!("{body}\n-- {ORIGIN} AAAAAAA=\n"),       // not an em dash
        format!("{body}\n\u{2014} {ORIGIN} AAAAAA==\n"), // shorter than 5 bytes
        format!("{body}\n\u{2014} {ORIGIN} AAAAAAAA"),   // no final newline
        format!("{body}\n\u{2014} {ORIGIN}AAAAAAAA\n"),  // no space
        format!("{body}\n\u{2014} {ORIGIN} AAAA!AAA\n"),
        format!("{body}\r\n\u{2014} {ORIGIN} AAAAAAAA\n"),
    ] {
        assert!(parse_checkpoint(&bad).is_err(), "{bad:?}");
    }
    assert_eq!(parse_note(&format!("{body}\n\u{2014} a+b AAAAAAAA\n")).unwrap_err(), NoteError::BadKeyName);
    let many: String = (0..101).map(|_| "\u{2014} w AAAAAAAA\n".to_string()).collect();
    assert_eq!(parse_note(&format!("{body}\n{many}")).unwrap_err(), NoteError::TooManySignatures);
    let sixteen: String = (0..16).map(|i| format!("\u{2014} w{i} AAAAAAAA\n")).collect();
    assert_eq!(parse_note(&format!("{body}\n{sixteen}")).unwrap().1.len(), 16);

    assert_eq!(sign_note("text\n", "has space", kid, |m| key.sign(m)), Err(NoteError::BadKeyName));
    assert_eq!(sign_note("text\n", "a+b", kid, |m| key.sign(m)), Err(NoteError::BadKeyName));
    assert!(matches!(sign_note("no newline", ORIGIN, kid, |m| key.sign(m)), Err(NoteError::Malformed(_))));
    assert_eq!(sign_note("text\n", ORIGIN, kid, |_| vec![]), Err(NoteError::EmptySignature));
}

/// Notes written by other implementations parse as they should.
#[test]
fn third_party_notes() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    // The example of c2sp.org/tlog-checkpoint (C2SP/C2SP tlog-checkpoint.md, commit 2793893976c835db049c194d8f2c4f946dcb70ba).
    let example = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
    let cp = parse_checkpoint(example).unwrap();
    assert_eq!((cp.origin.as_str(), cp.size), ("example.com/behind-the-sofa", 20852163));
    assert_eq!(checkpoint_body(&cp.origin, cp.size, &cp.root).unwrap(), cp.body);
    assert_eq!(cp.signatures.len(), 1);
    assert_eq!(cp.signatures[0].key_id, [0x03, 0x3d, 0xe0, 0xae]);
    assert_eq!(cp.signatures[0].signature.len(), 64);

    // The example of golang.org/x/mod/sumdb/note (golang/mod sumdb/note/note.go, commit
    // a410e2daa716f879ede62862a0351cad3606d11b): verifier key PeterNeumann+c74f20a3+<base64(0x01 ‖ Ed25519 key)>.
    let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    let note = format!("{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n");
    let (body, sigs) = parse_note(&note).unwrap();
    assert_eq!(body, text);
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].name, "PeterNeumann");
    assert_eq!(sigs[0].key_id, [0xc7, 0x4f, 0x20, 0xa3]);
    assert_eq!(sigs[0].signature.len(), 64);
    let vkey = b64.decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").unwrap();
    let (alg, public) = vkey.split_first().unwrap();
    assert_eq!(note_key_id("PeterNeumann", &[*alg], public), [0xc7, 0x4f, 0x20, 0xa3]);
    // Not a checkpoint: the second line is not a size.
    assert!(matches!(parse_checkpoint(&note), Err(NoteError::BadCheckpoint(_))));
}
