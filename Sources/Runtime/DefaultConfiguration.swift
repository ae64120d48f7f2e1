/// The configuration `outpost run` uses when no file is given. appliance/outpost.yaml is the same
/// text, installed for editing; a test keeps the two identical.
public enum DefaultConfiguration {
    public static let yaml = """
        # Outpost edge configuration.
        # Every key is optional; what is left out takes the value shown here.

        sip:
          # Where the edge listens for phones and peers. transport: udp | tcp
          listen:
            - transport: udp
              address: 0.0.0.0
              port: 5060
            - transport: tcp
              address: 0.0.0.0
              port: 5060
          # Larger messages are refused with 513 (UDP) or 513 and a close (TCP).
          max_message_size: 65535
          # Seconds a TCP connection may stay silent before the edge closes it.
          idle_timeout: 300
          # The Server header.
          server_name: Outpost

        # Registrations, call records and the PKI live here (created 0700 if missing).
        state_directory: /var/lib/outpost

        log:
          # trace | debug | info | notice | warning | error | critical
          level: info

        """
}
