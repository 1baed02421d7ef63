//! Which hall a file's rows belong to: a name a hall is known by, or a new file-sourced hall.

use super::*;

/// A hall id for a name first seen in a file: its region code when the file
/// gives one (`340825-XLS`), else a short hash of the name (`XLS-1f3a…`).
pub(crate) fn new_hall_id(store: &Store, key: &str, region: &str) -> Result<String, ImportError> {
    let digits: String = region.chars().filter(char::is_ascii_digit).collect();
    let mut candidates = vec![];
    if digits.len() >= 6 && digits.len() == region.len() {
        candidates.push(format!("{digits}-XLS"));
    }
    let h = hex::encode(Sha256::digest(key.as_bytes()));
    candidates.push(format!("XLS-{}", &h[..10]));
    candidates.push(format!("XLS-{}", &h[..20]));
    for c in candidates {
        if store.hall(&c)?.is_none() {
            return Ok(c);
        }
    }
    Err(ImportError::Unreadable(format!(
        "无法为大厅 “{key}” 分配编码"
    )))
}

/// The hall a converted row belongs to: one a file or a server already named,
/// else a new file-sourced hall when the officer allowed that, else none.
pub(crate) fn resolve_hall(
    store: &mut Store,
    c: &Converted,
    create: bool,
    dry: bool,
    by: Who<'_>,
) -> Result<(Option<String>, bool), ImportError> {
    if let Some(id) = store.import_hall(&c.hall_key)? {
        return Ok((Some(id), false));
    }
    // A hall registered with its own server and the same name is the same hall.
    if let Some(id) = store
        .halls()?
        .into_iter()
        .find(|h| hall_key(&h.name) == c.hall_key)
        .map(|h| h.hall_id)
    {
        return Ok((Some(id), false));
    }
    if !create {
        return Ok((None, false));
    }
    let id = new_hall_id(store, &c.hall_key, &c.region)?;
    if !dry {
        store.create_file_hall(&c.hall_key, &id, &c.hall_name, &c.region, by)?;
    }
    Ok((Some(id), true))
}
