public enum STNCoreVersion { public static let format = "1" }
