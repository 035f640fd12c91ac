//! The generated code of one function in a module that a patch built: its
//! size from the symbol table and its instructions, normalised so that the
//! builds of two patches can be compared. Uses `llvm-nm` and `llvm-objdump`
//! from the toolchain root.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use regex::Regex;

use crate::manifest::Measure;
use crate::progress::Progress;
use crate::runner::{Binds, Runner};
use bound_report::{sha256_hex, MeasureResult};

/// One defined symbol: its mangled and demangled names, and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Symbol {
    mangled: String,
    demangled: String,
    bytes: u64,
}

/// Pairs the lines of `llvm-nm -p --print-size --defined-only`, run without
/// and with `--demangle`: `-p` keeps the symbol table's order, so the n-th
/// line of one is the n-th of the other. Lines without a size (absolute
/// symbols, for example) are skipped.
fn symbols(mangled: &str, demangled: &str) -> Result<Vec<Symbol>> {
    let m: Vec<&str> = mangled.lines().filter(|l| !l.trim().is_empty()).collect();
    let d: Vec<&str> = demangled.lines().filter(|l| !l.trim().is_empty()).collect();
    ensure!(
        m.len() == d.len(),
        "llvm-nm listed {} symbols, and {} when demangling",
        m.len(),
        d.len()
    );
    let mut v = Vec::new();
    for (m, d) in m.iter().zip(&d) {
        // "address size type name"; the demangled name may contain spaces.
        let mf: Vec<&str> = m.splitn(4, ' ').collect();
        let df: Vec<&str> = d.splitn(4, ' ').collect();
        if mf.len() < 4 || df.len() < 4 {
            continue;
        }
        let bytes = u64::from_str_radix(mf[1], 16)
            .with_context(|| format!("llvm-nm: bad size in {m:?}"))?;
        v.push(Symbol {
            mangled: mf[3].to_owned(),
            demangled: df[3].to_owned(),
            bytes,
        });
    }
    Ok(v)
}

/// The one symbol whose demangled name matches `re`.
fn find<'a>(syms: &'a [Symbol], re: &Regex) -> Result<&'a Symbol> {
    let found: Vec<&Symbol> = syms.iter().filter(|s| re.is_match(&s.demangled)).collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => bail!("no symbol matches /{re}/"),
        many => bail!(
            "/{re}/ matches {} symbols, want one: {}",
            many.len(),
            many.iter()
                .map(|s| s.demangled.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// `llvm-objdump -d -r --no-show-raw-insn` of one function, with what
/// differs between two builds of the same code taken out: addresses, and
/// the absolute form of branch targets (kept as symbol plus offset).
/// Relocations keep their type and target.
fn normalise(objdump: &str) -> Vec<String> {
    let header = Regex::new(r"^[0-9a-f]+ <([^>]+)>:$").unwrap();
    let insn = Regex::new(r"^\s*[0-9a-f]+:\s+(.*)$").unwrap();
    let reloc = Regex::new(r"^\s*[0-9a-f]+:\s+(R_[A-Z0-9_]+)\s+(.*)$").unwrap();
    let target = Regex::new(r"0x[0-9a-f]+ <([^>+]*)(\+0x[0-9a-f]+)?>").unwrap();
    // The function's own name, which its branches, and the calls that are
    // only resolved at link time, name as their target: a function that
    // is the same code under another name is still the same code.
    let mut own = String::new();
    let mut out = Vec::new();
    for line in objdump.lines() {
        if let Some(c) = header.captures(line.trim()) {
            own = c[1].to_string();
        } else if let Some(c) = reloc.captures(line) {
            out.push(format!("  {} {}", &c[1], c[2].trim()));
        } else if let Some(c) = insn.captures(line) {
            let text = c[1].split_whitespace().collect::<Vec<_>>().join(" ");
            let text = target.replace_all(&text, |t: &regex::Captures| {
                let name = if t[1] == own { "." } else { &t[1] };
                format!("<{name}{}>", t.get(2).map_or("", |o| o.as_str()))
            });
            out.push(text.into_owned());
        }
    }
    out
}

/// Measures `m.symbol` in the module `ko` (a host path under the scratch
/// directory).
pub fn run(
    runner: &Runner,
    binds: &Binds,
    p: &Progress,
    m: &Measure,
    ko: &Path,
    log: &Path,
) -> Result<MeasureResult> {
    let re = Regex::new(&m.symbol).with_context(|| format!("measure {}: bad regex", m.name))?;
    let file = runner.scratch_path(binds, ko);
    let nm = |demangle: &str| -> Result<String> {
        let out = runner
            .script(
                binds,
                &format!("llvm-nm -p --print-size --defined-only {demangle} '{file}'"),
            )
            .output()
            .context("running llvm-nm in the toolchain root")?;
        ensure!(
            out.status.success(),
            "llvm-nm failed on {}: {}",
            m.module,
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let syms = symbols(&nm("")?, &nm("--demangle")?)?;
    let sym = find(&syms, &re).with_context(|| format!("measure {} in {}", m.name, m.module))?;
    let script = format!(
        "llvm-objdump -d -r --no-show-raw-insn --disassemble-symbols='{}' '{file}'",
        sym.mangled
    );
    let (st, _) = p.run_logged(
        &format!("measure {}", m.name),
        &mut runner.script(binds, &script),
        log,
        Duration::from_secs(30),
    )?;
    ensure!(st.success(), "llvm-objdump failed; see {}", log.display());
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let listing = normalise(&text);
    ensure!(
        !listing.is_empty(),
        "llvm-objdump printed no instructions for {}",
        sym.demangled
    );
    let joined = listing.join("\n");
    Ok(MeasureResult {
        name: m.name.clone(),
        module: m.module.clone(),
        symbol: sym.demangled.clone(),
        bytes: sym.bytes,
        instructions: listing.iter().filter(|l| !l.starts_with("  R_")).count(),
        sha256: sha256_hex(joined.as_bytes()),
        listing: joined,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NM: &str = "0000000000000bea 0000000000000033 T _RNvMs2_signaled_callback\n\
                      0000000000000000 0000000000000010 t _RNvCs_other\n";
    const NM_D: &str = "0000000000000bea 0000000000000033 T <kernel::dma_fence::FenceObject<rust_edu::EduJob>>::signaled_callback\n\
                        0000000000000000 0000000000000010 t <a::B as c::D>::other\n";

    #[test]
    fn pairs_mangled_and_demangled_names() {
        let s = symbols(NM, NM_D).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].mangled, "_RNvMs2_signaled_callback");
        assert_eq!(s[0].bytes, 0x33);
        assert_eq!(s[1].demangled, "<a::B as c::D>::other");
        assert!(symbols(NM, "x y z w\n").is_err());
    }

    #[test]
    fn finds_exactly_one_symbol() {
        let s = symbols(NM, NM_D).unwrap();
        let one = find(&s, &Regex::new("EduJob>>::signaled_callback$").unwrap()).unwrap();
        assert_eq!(one.bytes, 0x33);
        assert!(find(&s, &Regex::new("nothing").unwrap()).is_err());
        let e = find(&s, &Regex::new("::").unwrap()).unwrap_err();
        assert!(e.to_string().contains("matches 2 symbols"), "{e}");
    }

    #[test]
    fn normalised_listings_ignore_where_the_function_is() {
        let a = "0000000000000bea <_RNvX>:\n     bea:      \tendbr64\n     bef:      \tcallq\t0xbf4 <_RNvX+0xa>\n\t\t0000000000000bf0:  R_X86_64_PLT32\tfoo-0x4\n     c16:      \ttestl\t%eax, %eax\n     c18:\tje\t0xc1c <_RNvX>\n";
        let b = "0000000000000100 <_RNvX>:\n     100:      \tendbr64\n     105:      \tcallq\t0x10a <_RNvX+0xa>\n\t\t0000000000000106:  R_X86_64_PLT32\tfoo-0x4\n     12c:      \ttestl\t%eax, %eax\n     12e:\tje\t0x132 <_RNvX>\n";
        let na = normalise(a);
        assert_eq!(
            na,
            [
                "endbr64",
                "callq <.+0xa>",
                "  R_X86_64_PLT32 foo-0x4",
                "testl %eax, %eax",
                "je <.>"
            ]
        );
        assert_eq!(na, normalise(b));
        let c = b.replace("foo-0x4", "bar-0x4");
        assert_ne!(na, normalise(&c));
    }

    #[test]
    fn normalised_listings_ignore_the_functions_own_name() {
        let a = "0000000000000bea <_RNvFenceOps>:\n     bea:      \tcallq\t0xbf4 <_RNvFenceOps+0xa>\n     c18:\tje\t0xc1c <other+0x4>\n";
        let b = a.replace("_RNvFenceOps", "_RNvFenceSubclass");
        assert_eq!(normalise(a), normalise(&b));
        assert_eq!(normalise(a)[1], "je <other+0x4>");
        let c = a.replace("<other+0x4>", "<another+0x4>");
        assert_ne!(normalise(a), normalise(&c));
    }
}
