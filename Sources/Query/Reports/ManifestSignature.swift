import Archiver
import Foundation

/// `report --all --sign-key FILE`: `manifest.json.sig`, the raw 64-byte Ed25519 signature of the exact
/// bytes of `manifest.json`. The manifest holds every file's SHA-256, so the signature vouches for the
/// whole bundle, and anyone can check it without cloudron-audit:
/// `openssl pkeyutl -verify -pubin -inkey FILE.pub -rawin -in manifest.json -sigfile manifest.json.sig`.
public enum ManifestSignature {
    public static let fileName = "manifest.json.sig"

    /// Signs `directory/manifest.json` as it is on disk and writes the signature beside it (atomically).
    @discardableResult
    public static func write(directory: String, key: HeadSigningKey) throws -> String {
        let manifestPath = (directory as NSString).appendingPathComponent("manifest.json")
        guard let manifest = FileManager.default.contents(atPath: manifestPath) else {
            throw OutputError(operation: "read back", errno: errno, path: manifestPath)
        }
        let signature = try key.signature(for: Array(manifest))
        let path = (directory as NSString).appendingPathComponent(fileName)
        try AtomicOutputFile.write(to: path) { sink in try sink.write(signature) }
        return path
    }

}
