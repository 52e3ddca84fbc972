//! Argon2id for passwords and refresh tokens, with a cap on how many run at once.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use actix_web::web;
use std::cell::RefCell;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::config::HashCost;
use crate::domain::Password;
use crate::error::AppError;

/// Hashes and verifies off the async workers. Password work runs on a fixed set of dedicated,
/// lower-priority threads (`LATCHKEY_ARGON2_CONCURRENCY` of them), so a flood of sign-ins queues
/// instead of exhausting memory or starving other requests: only those threads ever hold the
/// 19 MiB argon2 buffers, and the scheduler prefers the HTTP workers over them. Token hashes are
/// small and run on the blocking pool under their own cap.
pub struct Hasher {
    password: Params,
    token: Params,
    password_jobs: mpsc::Sender<Job>,
    token_permits: Arc<Semaphore>,
    /// A hash of a random password, verified when the account does not exist so that an unknown
    /// email costs the same as a wrong password.
    dummy_hash: String,
    password_verifications: AtomicU64,
    /// Password hashes running now, and the most that ever ran at once (for tests and metrics).
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

fn params(cost: HashCost) -> Result<Params, AppError> {
    Params::new(cost.m_kib, cost.t, cost.p, None).map_err(AppError::unexpected)
}

fn argon2id(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

impl Hasher {
    pub fn new(password: HashCost, token: HashCost, concurrency: usize) -> Result<Self, AppError> {
        let password = params(password)?;
        let dummy_hash = hash_secret(&password, super::random_token(16).as_bytes())?;
        // Do not keep 19 MiB on the thread that builds the state.
        BLOCKS.with(|blocks| *blocks.borrow_mut() = Vec::new());
        Ok(Self {
            password,
            token: params(token)?,
            password_jobs: spawn_password_threads(concurrency),
            // Token hashes are small (256 KiB by default), so more may run at once.
            token_permits: Arc::new(Semaphore::new(concurrency * 4)),
            dummy_hash,
            password_verifications: AtomicU64::new(0),
            in_flight: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Hashes a new password into a PHC string with a fresh random salt.
    pub async fn hash_password(&self, password: &Password) -> Result<String, AppError> {
        let params = self.password.clone();
        let password = password.clone();
        self.password_work(move || hash_with(&params, &password))
            .await
    }

    /// The same, for command-line tools that run outside the server.
    pub fn hash_password_blocking(&self, password: &Password) -> Result<String, AppError> {
        hash_with(&self.password, password)
    }

    /// Verifies a password against a stored hash, or against the dummy hash when there is no
    /// account, so both paths do the same work. Returns whether it matched.
    pub async fn verify_password(
        &self,
        password: &Password,
        stored: Option<String>,
    ) -> Result<bool, AppError> {
        let exists = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let password = password.clone();
        self.password_verifications.fetch_add(1, Ordering::Relaxed);
        let matched = self
            .password_work(move || Ok(verify(password.expose(), &hash)))
            .await?;
        Ok(exists && matched)
    }

    /// Whether a stored password hash is weaker than the configured parameters (or not argon2id),
    /// so it should be recomputed at the next successful sign-in.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(phc) = PasswordHash::new(stored) else {
            return true;
        };
        if phc.algorithm.as_str() != "argon2id" {
            return true;
        }
        match Params::try_from(&phc) {
            Ok(old) => {
                old.m_cost() < self.password.m_cost()
                    || old.t_cost() < self.password.t_cost()
                    || old.p_cost() < self.password.p_cost()
            }
            Err(_) => true,
        }
    }

    /// How many password verifications ran, for tests and metrics.
    pub fn password_verifications(&self) -> u64 {
        self.password_verifications.load(Ordering::Relaxed)
    }

    /// Hashes a refresh token with the token profile (see `Config::token_cost`). Synchronous: call
    /// it on the blocking pool.
    pub fn hash_token(&self, token: &str) -> Result<String, AppError> {
        hash_secret(&self.token, token.as_bytes())
    }

    /// Whether `token` matches a stored token hash. Synchronous: call it on the blocking pool.
    pub fn verify_token(&self, token: &str, stored: &str) -> bool {
        verify(token, stored)
    }

    /// Runs refresh-token hashing work on the blocking pool under the token cap.
    pub async fn run_token_work<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce() -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        Self::capped(&self.token_permits, work).await
    }

    /// The most password hashes that ever ran at once; never above the configured cap.
    pub fn peak_concurrency(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    async fn password_work<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce() -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let (in_flight, peak) = (self.in_flight.clone(), self.peak.clone());
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let result = work();
            in_flight.fetch_sub(1, Ordering::SeqCst);
            let _ = answer.send(result);
        });
        self.password_jobs
            .send(job)
            .map_err(|_| AppError::unexpected("the password threads have stopped"))?;
        answered
            .await
            .map_err(|_| AppError::unexpected("a password thread dropped its job"))?
    }

    async fn capped<T, F>(permits: &Semaphore, work: F) -> Result<T, AppError>
    where
        F: FnOnce() -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let _permit = permits.acquire().await.map_err(AppError::unexpected)?;
        web::block(work).await.map_err(AppError::unexpected)?
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Starts `count` threads that run password jobs one at a time each; they end when the sender
/// is dropped.
fn spawn_password_threads(count: usize) -> mpsc::Sender<Job> {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    for n in 0..count.max(1) {
        let receiver = receiver.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("latchkey-argon2-{n}"))
            .spawn(move || {
                lower_priority();
                loop {
                    let next = receiver
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .try_recv();
                    let job = match next {
                        Ok(job) => job,
                        Err(mpsc::TryRecvError::Empty) => {
                            // Idle: give the working memory back until the next sign-in.
                            BLOCKS.with(|blocks| *blocks.borrow_mut() = Vec::new());
                            match receiver.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                                Ok(job) => job,
                                Err(_) => break,
                            }
                        }
                        Err(mpsc::TryRecvError::Disconnected) => break,
                    };
                    job();
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a password thread");
        }
    }
    sender
}

/// Makes the calling thread yield to the HTTP workers (nice 10), so hashing uses spare CPU and a
/// login storm does not delay other requests.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments; on Linux, PRIO_PROCESS with id 0
    // applies to the calling thread alone.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

fn hash_with(params: &Params, password: &Password) -> Result<String, AppError> {
    hash_secret(params, password.expose().as_bytes())
}

std::thread_local! {
    /// This thread's argon2 working memory, kept between hashes while sign-ins are queued:
    /// allocating (and page-faulting) 19 MiB per sign-in would cost as much as a third of the
    /// hash itself. Hashing threads release it when their queue drains.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2id into `out` with this thread's reusable memory.
fn argon2_into(
    params: &Params,
    secret: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        let needed = params.block_count();
        if blocks.len() != needed {
            blocks.clear();
            blocks.shrink_to_fit();
            blocks.resize(needed, Block::default());
        }
        argon2id(params).hash_password_into_with_memory(secret, salt, out, &mut blocks[..])
    })
}

/// A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) of `secret` with a fresh 16-byte salt.
fn hash_secret(params: &Params, secret: &[u8]) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
    let mut out = [0u8; 32];
    argon2_into(params, secret, &salt, &mut out).map_err(AppError::unexpected)?;
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        b64.encode(salt),
        b64.encode(out)
    ))
}

/// Verifies with the parameters stored in the PHC string; a malformed hash never matches.
fn verify(secret: &str, stored: &str) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return false;
    };
    if phc.algorithm.as_str() != "argon2id" || phc.version.is_some_and(|v| v != 0x13) {
        return false;
    }
    let Ok(params) = Params::try_from(&phc) else {
        return false;
    };
    let expected = expected.as_bytes();
    let mut out = vec![0u8; expected.len()];
    match argon2_into(&params, secret.as_bytes(), salt.as_ref(), &mut out) {
        Ok(()) => bool::from(out.as_slice().ct_eq(expected)),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn default_password_hashes_use_at_least_owasp_parameters() {
        let defaults = crate::config::Config::from_args(&Default::default()).unwrap();
        let hasher = Hasher::new(defaults.password_cost, defaults.token_cost, 1).unwrap();
        let password = Password::new_for_signup("correct horse battery".into(), 8).unwrap();

        let hash = hasher.hash_password(&password).await.unwrap();

        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let again = hasher.hash_password(&password).await.unwrap();
        assert_ne!(hash, again, "a fresh random salt each time");
        assert!(hasher.verify_password(&password, Some(hash)).await.unwrap());
    }

    #[actix_web::test]
    async fn a_missing_account_is_checked_against_the_dummy_hash_and_never_matches() {
        let cost = HashCost {
            m_kib: 64,
            t: 1,
            p: 1,
        };
        let hasher = Hasher::new(cost, cost, 1).unwrap();
        let password = Password::for_signin("anything".into()).unwrap();
        assert!(!hasher.verify_password(&password, None).await.unwrap());
        assert_eq!(hasher.password_verifications(), 1);
    }

    #[test]
    fn our_phc_strings_and_the_argon2_crates_verify_each_other() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let params = Params::new(256, 2, 1, None).unwrap();
        let theirs = argon2id(&params)
            .hash_password(b"a secret")
            .unwrap()
            .to_string();
        assert!(verify("a secret", &theirs));
        assert!(!verify("another", &theirs));
        let ours = hash_secret(&params, b"a secret").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=256,t=2,p=1$"), "{ours}");
        assert!(argon2id(&params)
            .verify_password(b"a secret", ours.as_str())
            .is_ok());
        assert!(argon2id(&params)
            .verify_password(b"another", ours.as_str())
            .is_err());
    }

    #[test]
    fn token_hashes_verify_only_their_token_and_malformed_hashes_never_match() {
        let cost = HashCost {
            m_kib: 64,
            t: 1,
            p: 1,
        };
        let hasher = Hasher::new(cost, cost, 1).unwrap();
        let hash = hasher.hash_token("token-a").unwrap();
        assert!(hasher.verify_token("token-a", &hash));
        assert!(!hasher.verify_token("token-b", &hash));
        assert!(!hasher.verify_token("token-a", "not a phc string"));
    }
}
