//! AES-256-GCM sealing of secrets at rest, with a current and an optional previous key.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{self, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use ring::{hkdf, hmac};

use crate::key::{EncryptionKey, KEY_ID_LEN, KeyId};
use crate::{CryptoError, SecretBytes, SecretString};

/// Length of the random IV (GCM nonce) of every ciphertext.
pub const IV_LEN: usize = aead::NONCE_LEN;

/// The only ciphertext format so far: `[1][key id: 4 bytes][sealed plaintext][tag: 16 bytes]`.
const FORMAT_V1: u8 = 1;
const HEADER_LEN: usize = 1 + KEY_ID_LEN;
const TAG_LEN: usize = 16;

/// A sealed secret as the database stores it: two standard-base64 texts. The ciphertext starts
/// with a format byte and the id of the key that sealed it; that header is authenticated along
/// with the caller's associated data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Encrypted {
    pub ciphertext_b64: String,
    pub iv_b64: String,
}

impl Encrypted {
    pub fn new(ciphertext_b64: impl Into<String>, iv_b64: impl Into<String>) -> Self {
        Self {
            ciphertext_b64: ciphertext_b64.into(),
            iv_b64: iv_b64.into(),
        }
    }

    /// The id of the key this value claims to be sealed with (not authenticated until it is
    /// decrypted).
    pub fn key_id(&self) -> Result<KeyId, CryptoError> {
        let sealed = self.decode()?.0;
        Ok(header(&sealed)?.1)
    }

    fn decode(&self) -> Result<(Vec<u8>, [u8; IV_LEN]), CryptoError> {
        let sealed = STANDARD
            .decode(self.ciphertext_b64.as_bytes())
            .map_err(|_| CryptoError::Base64 {
                field: "ciphertext",
            })?;
        let iv = STANDARD
            .decode(self.iv_b64.as_bytes())
            .map_err(|_| CryptoError::Base64 { field: "IV" })?;
        let iv: [u8; IV_LEN] = iv
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::IvLength)?;
        Ok((sealed, iv))
    }
}

/// Splits a decoded ciphertext's header: format version and key id.
fn header(sealed: &[u8]) -> Result<(u8, KeyId), CryptoError> {
    if sealed.len() < HEADER_LEN + TAG_LEN {
        return Err(CryptoError::TooShort);
    }
    let version = sealed[0];
    if version != FORMAT_V1 {
        return Err(CryptoError::UnsupportedVersion(version));
    }
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&sealed[1..HEADER_LEN]);
    Ok((version, KeyId::from_bytes(id)))
}

/// The authenticated data of a seal: the ciphertext header, then the caller's data. The header
/// has a fixed length, so the concatenation is unambiguous.
fn full_aad(head: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut all = Vec::with_capacity(head.len() + aad.len());
    all.extend_from_slice(head);
    all.extend_from_slice(aad);
    all
}

#[derive(Clone)]
struct Slot {
    id: KeyId,
    key: LessSafeKey,
    /// The HMAC key of [`Keyring::fingerprint`], derived from the data key (HKDF-SHA256).
    fingerprint: hmac::Key,
    /// HKDF-SHA256's pseudo-random key of the data key, for [`Keyring::derive_key`].
    prk: hkdf::Prk,
}

impl Slot {
    fn new(key: &EncryptionKey) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"suiteflow").extract(key.bytes());
        let fingerprint = prk
            .expand(&[b"credential fingerprint"], hmac::HMAC_SHA256)
            .map(hmac::Key::from);
        match (UnboundKey::new(&AES_256_GCM, key.bytes()), fingerprint) {
            (Ok(unbound), Ok(fingerprint)) => Self {
                id: key.id(),
                key: LessSafeKey::new(unbound),
                fingerprint,
                prk,
            },
            // ring refuses only a key of the wrong length (`EncryptionKey` is 32 bytes) or an
            // output too long for HKDF (an HMAC-SHA256 key is 32 bytes).
            _ => unreachable!("an EncryptionKey is always 32 bytes"),
        }
    }

    fn fingerprint(&self, secret: &str) -> String {
        let tag = hmac::sign(&self.fingerprint, secret.as_bytes());
        hex::encode(&tag.as_ref()[..16])
    }
}

/// The keys that seal and open secrets at rest: `current` seals and opens, `previous` (set
/// during a rotation through `DATA_ENCRYPTION_KEY_PREVIOUS`) only opens. Its `Debug` shows only
/// key ids.
#[derive(Clone)]
pub struct Keyring {
    current: Slot,
    previous: Option<Slot>,
    rng: SystemRandom,
}

impl Keyring {
    /// A keyring that seals with `current` and also opens values sealed with `previous`.
    pub fn new(current: EncryptionKey, previous: Option<EncryptionKey>) -> Self {
        Self {
            current: Slot::new(&current),
            previous: previous.as_ref().map(Slot::new),
            rng: SystemRandom::new(),
        }
    }

    /// The id of the key new values are sealed with.
    pub fn current_key_id(&self) -> KeyId {
        self.current.id
    }

    /// The id of the previous key, if one is set.
    pub fn previous_key_id(&self) -> Option<KeyId> {
        self.previous.as_ref().map(|slot| slot.id)
    }

    /// A stable, non-reversible name for a credential (32 hex characters): HMAC-SHA256 of it
    /// under a key derived from the current data key. Everything that must be shared per
    /// credential (a Webflow token's rate limit, a SmartSuite key's quota) is keyed by it, so
    /// the credential itself is never stored or logged there. It changes with the data key.
    pub fn fingerprint(&self, secret: &str) -> String {
        self.current.fingerprint(secret)
    }

    /// 64 bytes derived from the current data key for `purpose` (HKDF-SHA256; another purpose
    /// gives unrelated bytes): a key for something that must not be readable or forgeable
    /// without the data key, such as the console's session cookie. It changes with the data
    /// key.
    pub fn derive_key(&self, purpose: &str) -> [u8; 64] {
        struct Len64;
        impl hkdf::KeyType for Len64 {
            fn len(&self) -> usize {
                64
            }
        }
        let mut out = [0u8; 64];
        let info = [purpose.as_bytes()];
        match self
            .current
            .prk
            .expand(&info, Len64)
            .and_then(|okm| okm.fill(&mut out))
        {
            Ok(()) => out,
            // HKDF-SHA256 gives up to 255 × 32 bytes.
            Err(_) => unreachable!("64 bytes are within HKDF-SHA256's output"),
        }
    }

    /// The fingerprint the previous key gave the credential, during a rotation.
    pub fn previous_fingerprint(&self, secret: &str) -> Option<String> {
        self.previous.as_ref().map(|slot| slot.fingerprint(secret))
    }

    /// Seals `plaintext` with the current key and a fresh random 12-byte IV. `aad` (for
    /// suiteflow: the connection id and the column name) must be given again to decrypt, so a
    /// value copied to another row or column does not open.
    pub fn encrypt_secret(&self, plaintext: &[u8], aad: &[u8]) -> Result<Encrypted, CryptoError> {
        let mut iv = [0u8; IV_LEN];
        self.rng.fill(&mut iv).map_err(|_| CryptoError::Random)?;

        let mut sealed = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        sealed.push(FORMAT_V1);
        sealed.extend_from_slice(self.current.id.as_bytes());
        let aad = full_aad(&sealed, aad);
        let mut body = plaintext.to_vec();
        let tag = self
            .current
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(iv),
                Aad::from(&aad),
                &mut body,
            )
            .map_err(|_| CryptoError::Encrypt)?;
        sealed.extend_from_slice(&body);
        sealed.extend_from_slice(tag.as_ref());

        Ok(Encrypted {
            ciphertext_b64: STANDARD.encode(&sealed),
            iv_b64: STANDARD.encode(iv),
        })
    }

    /// Opens a value sealed by [`Keyring::encrypt_secret`] with the current or the previous key,
    /// whichever its key id names. Any damage (bad base64, wrong lengths, an unknown key, a
    /// flipped bit in the ciphertext, IV or associated data) is an error, never garbage.
    pub fn decrypt_secret(
        &self,
        encrypted: &Encrypted,
        aad: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let (sealed, iv) = encrypted.decode()?;
        let (_, id) = header(&sealed)?;
        let aad = full_aad(&sealed[..HEADER_LEN], aad);

        let candidates = [Some(&self.current), self.previous.as_ref()];
        let mut matched = false;
        for slot in candidates
            .into_iter()
            .flatten()
            .filter(|slot| slot.id == id)
        {
            matched = true;
            let mut body = sealed[HEADER_LEN..].to_vec();
            if let Ok(plain) =
                slot.key
                    .open_in_place(Nonce::assume_unique_for_key(iv), Aad::from(&aad), &mut body)
            {
                let len = plain.len();
                body.truncate(len);
                return Ok(SecretBytes::new(body));
            }
        }
        if matched {
            Err(CryptoError::Decrypt)
        } else {
            Err(CryptoError::UnknownKey(id))
        }
    }

    /// [`Keyring::decrypt_secret`] for a secret that is text (API keys, tokens, webhook secrets).
    pub fn decrypt_string(
        &self,
        encrypted: &Encrypted,
        aad: &[u8],
    ) -> Result<SecretString, CryptoError> {
        let bytes = self.decrypt_secret(encrypted, aad)?;
        let text = String::from_utf8(bytes.expose().to_vec()).map_err(|_| CryptoError::NotUtf8)?;
        Ok(SecretString::new(text))
    }

    /// Whether `encrypted` is not (or not visibly) sealed with the current key, so a rotation
    /// job should [`reseal`](Keyring::reseal) it. A value too damaged to read its key id also
    /// counts: resealing it then reports the damage.
    pub fn needs_rotation(&self, encrypted: &Encrypted) -> bool {
        !matches!(encrypted.key_id(), Ok(id) if id == self.current.id)
    }

    /// Opens `encrypted` with whichever key sealed it and seals it again with the current key
    /// (and a fresh IV).
    pub fn reseal(&self, encrypted: &Encrypted, aad: &[u8]) -> Result<Encrypted, CryptoError> {
        let plain = self.decrypt_secret(encrypted, aad)?;
        self.encrypt_secret(plain.expose(), aad)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field("previous", &self.previous.as_ref().map(|slot| slot.id))
            .finish_non_exhaustive()
    }
}
