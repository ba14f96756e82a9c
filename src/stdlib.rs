//! The standard library: `.thidua` modules embedded in the binary.

/// `(module name, file name, source)`.
pub const MODULES: &[(&str, &str, &str)] = &[
    (
        "std.units",
        "units.thidua",
        include_str!("../stdlib/units.thidua"),
    ),
    (
        "std.chi_thi_26",
        "chi_thi_26.thidua",
        include_str!("../stdlib/chi_thi_26.thidua"),
    ),
    (
        "std.xep_loai",
        "xep_loai.thidua",
        include_str!("../stdlib/xep_loai.thidua"),
    ),
    (
        "std.luat_tdkt_2022",
        "luat_tdkt_2022.thidua",
        include_str!("../stdlib/luat_tdkt_2022.thidua"),
    ),
];

pub fn module(name: &str) -> Option<(&'static str, &'static str)> {
    MODULES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, f, s)| (*f, *s))
}

pub fn names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(n, _, _)| *n)
}
