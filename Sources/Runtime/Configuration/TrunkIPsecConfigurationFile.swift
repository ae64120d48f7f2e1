import TrunkIPsec

// `outpost ipsec …` reads the edge's configuration file with the loader `outpost run` uses and
// takes the same `trunkIPsec` value the running edge hands to its TrunkProtectionService, so the
// command and the edge can never read one file two ways.

extension TrunkProtectionConfiguration {
    /// The `trunk_ipsec` section of the edge's configuration `text` (the whole file is checked,
    /// as `outpost run` checks it). Errors name file, line and key.
    public static func parse(text: String, file: String) throws(ConfigurationError) -> TrunkProtectionConfiguration {
        guard let protection = try ConfigurationLoader.load(yaml: text, file: file).trunkIPsec else {
            throw ConfigurationError(file: file, line: nil, key: "trunk_ipsec", reason: "missing: the configuration has no trunk_ipsec section")
        }
        return protection
    }
}

extension TrunkIPsecTool {
    /// Reads the edge's configuration at `path` and returns its validated `trunk_ipsec` section.
    public static func loadConfiguration(path: String) throws(Failure) -> TrunkProtectionConfiguration {
        let text: String
        do throws(TrunkKeyFileError) {
            text = try readText(path: path)
        } catch {
            throw Failure(error.description)
        }
        do throws(ConfigurationError) {
            return try TrunkProtectionConfiguration.parse(text: text, file: path)
        } catch {
            throw Failure(error.description)
        }
    }
}
