/// The configuration `outpost run` uses when no file is given. appliance/outpost.yaml is the same
/// text, installed for editing; a test keeps the two identical.
public enum DefaultConfiguration {
    public static let yaml = """
        # Outpost edge configuration.
        # Every key is optional; what is left out takes the value shown here.

        sip:
          # Where the edge listens for phones and peers. transport: udp | tcp | tls
          listen:
            - transport: udp
              address: 0.0.0.0
              port: 5060
            - transport: tcp
              address: 0.0.0.0
              port: 5060
            - transport: tls
              address: 0.0.0.0
              port: 5061
          # The TLS listeners. Without certificate/key/trust_roots the edge uses its own PKI in the
          # state directory, creating it on first start (see `outpost pki`).
          tls:
            # required: phones must present a certificate that chains to a trusted root.
            client_certificates: required
            # Seconds a client may take to finish its handshake.
            handshake_timeout: 10
            # Also refuse SHA-1 signatures anywhere in a peer's chain, and MD5 digest
            # authentication (registrar.digest_algorithms must then leave MD5 out).
            fips_mode: false
            # Seconds between checks for changed certificates, trust roots and CRLs (a device
            # revoked with `outpost pki revoke` is refused on its next connection after this).
            reload_interval: 30
          # Larger messages are refused with 513 (UDP) or 513 and a close (TCP).
          max_message_size: 65535
          # Seconds a TCP connection may stay silent before the edge closes it.
          idle_timeout: 300
          # Seconds a TCP/TLS peer has to finish a message once it has started one (headers and
          # body); a peer trickling bytes slower is closed.
          message_deadline: 10
          # TCP/TLS connections one address may hold at once; more are closed on accept.
          max_connections_per_address: 50
          # The Server header.
          server_name: Outpost

        # The edge's own certificate authority and SRST certificate.
        pki:
          # Names and addresses the SRST certificate carries; empty lists mean this host's name
          # and its non-loopback addresses at the time the certificate is first made.
          names: []
          addresses: []
          # Certificates and CRLs expiring within this many days are reported at start.
          expiry_warning_days: 30

        # IPsec (ESP, transport mode, manual keys) on the trunk to the call manager; the trunk
        # carries no signalling until the policies and SAs are installed and read back.
        # Generate keys with `outpost ipsec keygen`, give the call manager the same ones
        # (`outpost ipsec peer-config` prints ip-xfrm commands for a Linux peer).
        # trunk_ipsec:
        #   keying: manual              # manual | external (an IKE daemon installs, the edge verifies)
        #   local: [192.0.2.1]          # the edge's trunk addresses, one per family
        #   call_managers: [192.0.2.10]
        #   coverage: sip-ports         # sip-ports | all
        #   sip_ports: [5060, 5061]
        #   suite: aes256gcm16          # aes128gcm16 | aes256gcm16 | aes128-sha256 | aes256-sha256
        #   key_file: /etc/outpost/trunk-ipsec.keys
        #   repair: automatic           # automatic | manual (wait for `outpost ipsec apply`)

        # The trunk to the central call manager. While it answers OPTIONS, phones' REGISTERs are
        # relayed to it; after failover_misses unanswered keep-alives the edge becomes their
        # registrar, and it hands them back once the call manager has answered failback_successes
        # keep-alives in a row and then stayed up for hold_down seconds. REGISTERs that the first
        # call manager does not answer go to the next before the branch is declared down.
        # trunk:
        #   call_managers:
        #     - transport: tls          # udp | tcp | tls
        #       address: 192.0.2.10
        #       port: 5061
        #       server_name: cm.example.com   # TLS: the name its certificate must carry (default: the address, as an IP SAN)
        #   domain: 192.0.2.10          # the domain of the phones' addresses of record upstream
        #   options_interval: 5
        #   failover_misses: 3
        #   failback_successes: 3
        #   hold_down: 120
        #   upstream_refresh: 300     # seconds between re-registrations of every binding upstream

        # The edge's own registrar.
        registrar:
          realm: outpost
          min_expires: 60
          max_expires: 3600
          default_expires: 3600
          # REGISTERs per second from one address before it gets 503 with Retry-After.
          rate_per_source: 200
          # Offered most preferred first (RFC 8760). Put MD5 first, or alone, for phones that
          # only read the first challenge and do not know SHA-256. With sip.tls.fips_mode: true
          # MD5 is refused and, when this key is left out, only SHA-256 is offered.
          digest_algorithms: [SHA-256, MD5]
          # Online password guessing. After free_failures wrong digest answers for one line, or
          # from one address, each further attempt must wait base_backoff seconds, doubling up to
          # max_backoff, and one sent early is refused unchecked; after lockout_failures the line or
          # address is locked out for lockout_seconds, logged at critical level. Unknown lines are
          # treated alike. Phones that register over TLS with their certificate are never slowed.
          guessing:
            free_failures: 3
            base_backoff: 1
            max_backoff: 60
            lockout_failures: 10
            lockout_seconds: 300

        # The inventory: only these devices may register and are provisioned.
        # security: non-secure (UDP/TCP with digest) | authenticated | encrypted (TLS with the
        # phone's certificate, whose CN or SAN URI must be the device name).
        devices: []
        #  - name: SEP001BD4AABBCC
        #    security: encrypted
        #    display_name: Reception
        #    lines:
        #      - number: "2001"
        #        display_name: Reception
        #  - name: lobby-phone
        #    mac: 80:5e:c0:11:22:33
        #    security: non-secure
        #    lines: ["2002"]
        #    digest: {username: "2002", password: "change-me"}

        # Phones fetch their configuration, the edge's certificate and trust lists here.
        tftp:
          enabled: true
          address: 0.0.0.0
          port: 69
          # A read-only directory served below the generated files (firmware, ringtones).
          # root: /srv/tftp
          # The call manager's TFTP server: while the trunk is up, files the edge does not have
          # are fetched from it and cached (state_directory/tftp-cache) for outages.
          # upstream:
          #   address: 192.0.2.10
          #   port: 69
          # Transfers at once, and from one address; more get ERROR 0 "too many transfers".
          max_transfers: 200
          max_transfers_per_client: 8
          # Seconds before a block is sent again, and retransmissions before a silent phone's
          # transfer is abandoned.
          timeout: 1
          retries: 5
          # Seconds one transfer may take in all, whatever timeout the phone asks for, so a
          # client that never acknowledges gives its slot back (firmware must fit within it).
          transfer_deadline: 120

        provisioning:
          # The address phones are given for the edge; empty means the first of pki.addresses.
          # edge_address: 192.0.2.1
          # Seconds a phone stays on the edge after the call manager returns (Cisco).
          connection_monitor_duration: 120

        # The media relay: every call's RTP/SRTP is anchored here, decrypted and re-encrypted per leg.
        media:
          # The address the relay's sockets bind to.
          address: 0.0.0.0
          # UDP ports for calls: an even RTP port and the RTCP port after it, chosen at random.
          port_min: 16384
          port_max: 32767
          # Event loop threads for media, apart from SIP's.
          threads: 1
          # Seconds a released port pair is held back so late packets of a call never reach the next.
          quarantine: 30
          # Seconds without RTP from an answered call's phone, or without RTP or RTCP from a held
          # one, before the call is reported (and ended by the call layer).
          rtp_timeout: 60
          hold_timeout: 3600
          # Seconds after each offer/answer in which a leg may learn its phone's real address from
          # an authenticated packet (NAT); after that packets from anywhere else are dropped.
          latching_window: 10
          # Packets in each inbound SRTP replay window.
          replay_window: 1024

        # The call layer: the edge is a back-to-back user agent, every call a leg per phone (or call
        # manager) with its own dialog and keys.
        calls:
          # Seconds a callee may ring before the caller hears 480.
          ring_timeout: 120
          # Calls up at once; more get 503 with Retry-After.
          max_calls: 2000
          # RFC 4028 session timers: the interval the edge asks for on the legs it places, and the
          # shortest it accepts (Min-SE, never below the RFC's 90); a refresh that does not come
          # ends the call with a BYE on every leg.
          session_expires: 1800
          min_session_expires: 90
          # Media on the trunk to the call manager: srtp (required), srtp-optional, or rtp. IPsec
          # protects the trunk's signalling, not the media's path.
          trunk_media: srtp
          # Seconds calls up at SIGTERM may go on (new ones get 503) before the edge hangs them up
          # with a Reason; keep it below systemd's TimeoutStopSec (30 s in systemd/outpost.service).
          drain_time: 20

        # The operator's HTTP listener: Prometheus metrics at /metrics (no authentication) and the status
        # page at /. Without tls: keep it on loopback or a management network. If the port cannot be bound
        # the edge logs why and goes on carrying calls without it.
        admin:
          enabled: true
          address: 127.0.0.1
          port: 9160
          # HTTP connections at once; more are closed on accept.
          max_connections: 16
          # Seconds a client has to finish a request it has started; a slower one is closed.
          request_deadline: 10
          # The status page at / (it refreshes itself) asks for this user and password (HTTP Basic);
          # without a hash the page is not served. Make one with: outpost admin hash-password
          username: admin
          # password_hash: pbkdf2-sha256$600000$...$...
          # HTTPS with the edge's SRST certificate; then a client certificate that chains to the edge's
          # trust roots and names one of certificate_names (CN or SAN) logs in without a password.
          tls: false
          certificate_names: []

        # Registrations, call records and the PKI live here (created 0700 if missing).
        state_directory: /var/lib/outpost

        # Where calls go: ordered rules, the first that matches the dialled number wins. A pattern has
        # digits, * and #, a leading +, X for any digit, [2-5] or [135] classes, and a final . or T for
        # one or more further digits. Targets: local (a branch line), trunk (the call manager),
        # pstn:<group>, refuse (with status 400-699 and a reason). strip removes leading digits before
        # prepend is added; survivable: gives another target while the call manager is unreachable;
        # modes: [normal] or [survivable] limits a rule to one mode. With no rule: a branch line is
        # called locally, anything else goes to the call manager, and while it is unreachable is
        # refused with 503 and why. `outpost check-config` warns of rules that can never match.
        dial_plan: []
        #  - name: internal
        #    pattern: "2XXX"
        #    target: local
        #  - name: outside
        #    pattern: "9."
        #    strip: 1
        #    target: trunk
        #    survivable: pstn:fxo
        #  - name: premium
        #    pattern: "0900."
        #    target: refuse
        #    status: 403
        #    reason: premium-rate numbers are barred

        log:
          # trace | debug | info | notice | warning | error | critical
          level: info

        """
}
