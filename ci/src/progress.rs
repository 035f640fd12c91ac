//! Progress output: every line says how long the run has taken so far, and a
//! long command reports its latest log line every so often, so that a cold
//! kernel build never sits silent for minutes.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Set by the Ctrl-C handler.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub fn check_interrupted() -> Result<()> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        bail!("interrupted (Ctrl-C); finished cache entries are kept, partial ones were removed");
    }
    Ok(())
}

#[derive(Clone, Copy)]
pub struct Progress {
    start: Instant,
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }

    pub fn say(&self, msg: impl AsRef<str>) {
        eprintln!("[{}] {}", fmt_secs(self.start.elapsed()), msg.as_ref());
    }

    /// Runs `cmd` with stdout and stderr appended to `log`, printing the
    /// log's newest line every `every` while it runs.
    pub fn run_logged(
        &self,
        label: &str,
        cmd: &mut Command,
        log: &Path,
        every: Duration,
    ) -> Result<(ExitStatus, Duration)> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening log {}", log.display()))?;
        let t0 = Instant::now();
        let mut child = spawn_group(
            cmd.stdin(Stdio::null())
                .stdout(out.try_clone()?)
                .stderr(out),
        )
        .with_context(|| format!("{label}: starting {:?}", cmd.get_program()))?;
        let mut next = t0 + every;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok((status, t0.elapsed()));
            }
            if INTERRUPTED.load(Ordering::SeqCst) {
                stop_group(&mut child);
                check_interrupted()?;
            }
            if Instant::now() >= next {
                next += every;
                let last = last_line(log).unwrap_or_default();
                self.say(format!(
                    "  {label}: {} so far; {}",
                    fmt_secs(t0.elapsed()),
                    last.trim()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Starts `cmd` as the leader of a new process group, so that the whole
/// tree it starts (make and its compilers, QEMU) can be stopped at once.
pub fn spawn_group(cmd: &mut Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0).spawn()
}

/// Stops a process group started by [`spawn_group`]: SIGTERM, then SIGKILL
/// after two seconds, and reaps the leader.
pub fn stop_group(child: &mut Child) {
    let pgid = child.id() as libc::pid_t;
    // SAFETY: `kill` has no memory-safety preconditions; a negative pid names
    // the process group that `spawn_group` created for this child.
    unsafe { libc::kill(-pgid, libc::SIGTERM) };
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(2) {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: as above. The group may be gone already; that is fine.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
    let _ = child.wait();
}

/// The last non-empty line of a file, reading only its end.
pub fn last_line(path: &Path) -> Option<String> {
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(4096))).ok()?;
    BufReader::new(f)
        .lines()
        .map_while(|l| l.ok())
        .filter(|l| !l.trim().is_empty())
        .last()
}

pub fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_elapsed_time() {
        assert_eq!(fmt_secs(Duration::from_millis(1500)), "1.5s");
        assert_eq!(fmt_secs(Duration::from_secs(318)), "5m18s");
    }

    #[test]
    fn run_logged_captures_output_and_status() {
        let dir = std::env::temp_dir().join(format!("bound-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("log");
        let (st, _) = Progress::new()
            .run_logged(
                "t",
                Command::new("sh").args(["-c", "echo one; echo two >&2; exit 3"]),
                &log,
                Duration::from_secs(60),
            )
            .unwrap();
        assert_eq!(st.code(), Some(3));
        assert_eq!(last_line(&log).as_deref(), Some("two"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
