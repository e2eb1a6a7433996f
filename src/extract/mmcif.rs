//! mmCIF/PDBx headers: the cell, the space group, the PDB entry, and where and how the
//! diffraction data were collected, from the categories before the coordinates.

use super::{ExtractError, Facts, cif, normalise_time};

pub fn read(head: &[u8]) -> Result<Facts, ExtractError> {
    let text = String::from_utf8_lossy(head);
    // The coordinates are many and never needed.
    let block = cif::first_block(&text, |t| {
        t.starts_with("_atom_site.") || t.starts_with("_atom_site_anisotrop.")
    })
    .ok_or(ExtractError::NoDataBlock(head.len()))?;
    let b = &block;
    let mut f = Facts::default();
    let cell = [
        "_cell.length_a",
        "_cell.length_b",
        "_cell.length_c",
        "_cell.angle_alpha",
        "_cell.angle_beta",
        "_cell.angle_gamma",
    ]
    .map(|t| b.number(t));
    if cell.iter().all(Option::is_some) {
        f.cell = Some(cell.map(Option::unwrap_or_default));
    }
    f.space_group = b
        .get("_symmetry.space_group_name_h-m")
        .or_else(|| b.get("_space_group.name_h-m_alt"))
        .map(str::to_owned);
    f.pdb_id = pdb_id(b);
    f.facility = b
        .get("_diffrn_source.pdbx_synchrotron_site")
        .map(str::to_owned);
    f.beamline = b
        .get("_diffrn_source.pdbx_synchrotron_beamline")
        .map(str::to_owned);
    f.wavelength_angstrom = b
        .number("_diffrn_radiation_wavelength.wavelength")
        .or_else(|| {
            b.get("_diffrn_source.pdbx_wavelength_list")
                .and_then(|l| cif::number(l.split(',').next()?))
        });
    f.detector = b
        .get("_diffrn_detector.type")
        .or_else(|| b.get("_diffrn_detector.detector"))
        .map(str::to_owned);
    f.collected_from = b
        .get("_diffrn_detector.pdbx_collection_date")
        .and_then(normalise_time);
    f.technique = b.get("_exptl.method").map(str::to_owned);
    f.temperature_kelvin = b.number("_diffrn.ambient_temp");
    f.sample = b
        .get("_entity.pdbx_description")
        .or_else(|| b.get("_struct.title"))
        .map(str::to_owned);
    Ok(f)
}

/// The PDB entry: `_database_2` row whose database is PDB, else `_entry.id` when it has
/// the form of one.
fn pdb_id(b: &cif::Block) -> Option<String> {
    let ids = b.column("_database_2.database_id");
    let codes = b.column("_database_2.database_code");
    let from_db2 = ids.iter().zip(codes).find_map(|(id, code)| {
        id.as_deref()
            .filter(|i| i.eq_ignore_ascii_case("PDB"))
            .and(code.as_deref())
    });
    from_db2
        .or_else(|| b.get("_entry.id"))
        .map(str::to_ascii_uppercase)
        .filter(|id| {
            id.len() == 4
                && id.as_bytes()[0].is_ascii_digit()
                && id.bytes().all(|c| c.is_ascii_alphanumeric())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDB: &str = "data_1LYZ\n\
        _entry.id 1LYZ\n\
        loop_\n_database_2.database_id\n_database_2.database_code\nPDB 1lyz\nWWPDB D_1000179326\n\
        _cell.length_a 79.100\n_cell.length_b 79.100\n_cell.length_c 37.900\n\
        _cell.angle_alpha 90.00\n_cell.angle_beta 90.00\n_cell.angle_gamma 90.00\n\
        _symmetry.space_group_name_H-M 'P 43 21 2'\n\
        _exptl.method 'X-RAY DIFFRACTION'\n\
        _diffrn_source.source SYNCHROTRON\n\
        _diffrn_source.pdbx_synchrotron_site ESRF\n\
        _diffrn_source.pdbx_synchrotron_beamline ID23-1\n\
        _diffrn_radiation_wavelength.wavelength 0.9763\n\
        _diffrn_detector.detector PIXEL\n\
        _diffrn_detector.type 'DECTRIS PILATUS 6M'\n\
        _diffrn_detector.pdbx_collection_date 2010-06-09\n\
        _entity.pdbx_description 'LYSOZYME C'\n\
        loop_\n_diffrn.id\n_diffrn.crystal_id\n_diffrn.ambient_temp\n1 1 100\n\
        loop_\n_atom_site.group_PDB\n_atom_site.id\nATOM 1\nATOM 2\n";

    #[test]
    fn reads_what_a_structure_says_about_its_data() {
        let f = read(PDB.as_bytes()).unwrap();
        assert_eq!(f.pdb_id.as_deref(), Some("1LYZ"));
        assert_eq!(f.cell, Some([79.1, 79.1, 37.9, 90.0, 90.0, 90.0]));
        assert_eq!(f.space_group.as_deref(), Some("P 43 21 2"));
        assert_eq!(f.facility.as_deref(), Some("ESRF"));
        assert_eq!(f.beamline.as_deref(), Some("ID23-1"));
        assert_eq!(f.wavelength_angstrom, Some(0.9763));
        assert_eq!(f.detector.as_deref(), Some("DECTRIS PILATUS 6M"));
        assert_eq!(f.collected_from.as_deref(), Some("2010-06-09"));
        assert_eq!(f.technique.as_deref(), Some("X-RAY DIFFRACTION"));
        assert_eq!(f.sample.as_deref(), Some("LYSOZYME C"));
        assert_eq!(f.temperature_kelvin, Some(100.0));
    }

    #[test]
    fn an_entry_id_that_is_no_pdb_id_gives_none() {
        let f = read(b"data_model\n_entry.id my_model\n").unwrap();
        assert_eq!((f.pdb_id, f.cell), (None, None));
        assert_eq!(read(b"no block here"), Err(ExtractError::NoDataBlock(13)));
    }
}
