#!/usr/bin/python3
"""Writes siit-demo.pcap: a short IPv6-only client <-> IPv4 server exchange for the offline demo.

Client 2001:db8:1::2 is mapped to 192.0.2.2 by the EAMT entry 2001:db8:1::/120=192.0.2.0/24;
the server 198.51.100.2 appears to the client as 2001:db8:64::198.51.100.2 (pool6 /96).
"""
from scapy.all import IP, IPv6, ICMPv6EchoRequest, ICMP, UDP, TCP, Raw, wrpcap

C6, S6 = "2001:db8:1::2", "2001:db8:64::c633:6402"
C4, S4 = "192.0.2.2", "198.51.100.2"
packets = [
    IPv6(src=C6, dst=S6, hlim=64) / ICMPv6EchoRequest(id=0x1234, seq=1) / Raw(b"ping from an IPv6-only host"),
    IP(src=S4, dst=C4, ttl=64, id=1) / ICMP(type=0, id=0x1234, seq=1) / Raw(b"ping from an IPv6-only host"),
    IPv6(src=C6, dst=S6, hlim=64) / UDP(sport=40000, dport=53) / Raw(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"),
    IPv6(src=C6, dst=S6, hlim=64) / TCP(sport=40001, dport=80, flags="S", seq=1000, window=64800),
    IP(src=S4, dst=C4, ttl=64, id=2, flags="DF") / TCP(sport=80, dport=40001, flags="SA", seq=5000, ack=1001),
    IPv6(src=C6, dst=S6, hlim=1) / UDP(sport=40002, dport=33434) / Raw(b"traceroute probe"),
]
wrpcap("siit-demo.pcap", packets, linktype=101)
