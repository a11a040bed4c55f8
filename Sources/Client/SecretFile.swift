#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading a file that holds a credential (an API token, a signing key).
///
/// Like ssh with a private key, a file that group or others can read is refused: whoever else can
/// read it holds the credential too, and saying so at once beats finding out after a leak.
public enum SecretFile {
    /// The file's bytes (at most 64 KB). `what` names the file in errors ("token file", "signing key").
    public static func read(_ path: String, what: String) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ClientError.invalidConfiguration("cannot read \(what) \(path) (\(errnoText())) — check the path")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw ClientError.invalidConfiguration(
                "\(what) \(path) is readable by group or others (mode \(String(mode, radix: 8))) — run chmod 600 \(path)")
        }
        guard let file = fopen(path, "rb") else {
            throw ClientError.invalidConfiguration("cannot read \(what) \(path) (\(errnoText())) — check the path")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 16 {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }
}
