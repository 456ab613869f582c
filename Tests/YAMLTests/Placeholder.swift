// PLACEHOLDER — drop on merge: SwiftPM refuses a target without sources; the real files come from another branch.
