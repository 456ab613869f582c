/// Namespace for the POSIX wrappers over `CPosix`. A placeholder so the package builds
/// until the wrappers land; it declares nothing else on purpose.
public enum Posix {}
