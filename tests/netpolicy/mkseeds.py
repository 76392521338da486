#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the seed corpora of fuzz_frame and fuzz_dns (tests/fuzz/corpus/).

Run once by hand when the seeds should change; the files are committed."""
import struct, os
def csum(b):
    if len(b)%2: b+=b'\0'
    s=sum(struct.unpack('!%dH'%(len(b)//2),b))
    while s>>16: s=(s&0xffff)+(s>>16)
    return (~s)&0xffff
GM=bytes.fromhex('525400123456'); GW=bytes.fromhex('52550a000202'); BC=b'\xff'*6
def ip(a): return bytes(int(x) for x in a.split('.'))
def ipv4(proto,src,dst,l4,frag=0x4000,ihl=5,opts=b''):
    h=struct.pack('!BBHHHBBH4s4s',0x40|ihl,0,20+len(opts)+len(l4),0x1234,frag,64,proto,0,ip(src),ip(dst))+opts
    h=h[:10]+struct.pack('!H',csum(h))+h[12:]
    return h+l4
def l4sum(proto,src,dst,seg,off):
    ph=ip(src)+ip(dst)+struct.pack('!BBH',0,proto,len(seg))
    c=csum(ph+seg); return seg[:off]+struct.pack('!H',c)+seg[off+2:]
def tcp(src,dst,sp,dp,flags=2,data=b''):
    s=struct.pack('!HHIIBBHHH',sp,dp,1000,0,0x50,flags,8192,0,0)+data
    return l4sum(6,src,dst,s,16)
def udp(src,dst,sp,dp,data=b''):
    s=struct.pack('!HHHH',sp,dp,8+len(data),0)+data
    return l4sum(17,src,dst,s,6)
def eth(d,s,t,p): return d+s+struct.pack('!H',t)+p
def dnsq(name,id=1):
    q=struct.pack('!HHHHHH',id,0x100,1,0,0,0)
    for l in name.split('.'): q+=bytes([len(l)])+l.encode()
    return q+b'\0'+struct.pack('!HH',1,1)
G='10.0.2.15'
seeds={}
seeds['tcp-syn-allowed']=eth(GW,GM,0x800,ipv4(6,G,'192.0.2.1',tcp(G,'192.0.2.1',40000,8080)))
seeds['tcp-syn-denied']=eth(GW,GM,0x800,ipv4(6,G,'192.0.2.1',tcp(G,'192.0.2.1',40000,80)))
seeds['tcp-smb']=eth(GW,GM,0x800,ipv4(6,G,'192.0.2.9',tcp(G,'192.0.2.9',40001,445)))
seeds['tcp-ack-data']=eth(GW,GM,0x800,ipv4(6,G,'192.0.2.1',tcp(G,'192.0.2.1',40000,8080,0x18,b'GET / HTTP/1.0\r\n\r\n')))
seeds['tcp-host']=eth(GW,GM,0x800,ipv4(6,G,'10.0.2.2',tcp(G,'10.0.2.2',40000,5432)))
seeds['udp-allowed']=eth(GW,GM,0x800,ipv4(17,G,'192.0.2.7',udp(G,'192.0.2.7',1234,123,b'\x1b'+b'\0'*47)))
seeds['udp-netbios-bcast']=eth(BC,GM,0x800,ipv4(17,G,'10.0.2.255',udp(G,'10.0.2.255',137,137,b'\0'*50)))
seeds['dhcp-discover']=eth(BC,GM,0x800,ipv4(17,'0.0.0.0','255.255.255.255',udp('0.0.0.0','255.255.255.255',68,67,b'\x01\x01\x06\x00'+b'\0'*236+b'\x63\x82\x53\x63\x35\x01\x01\xff')))
seeds['dns-allowed']=eth(GW,GM,0x800,ipv4(17,G,'10.0.2.3',udp(G,'10.0.2.3',5353,53,dnsq('allowed.example'))))
seeds['dns-refused']=eth(GW,GM,0x800,ipv4(17,G,'10.0.2.3',udp(G,'10.0.2.3',5353,53,dnsq('evil.example.com'))))
seeds['icmp-echo']=eth(GW,GM,0x800,ipv4(1,G,'192.0.2.1',b'\x08\0\0\0\0\1\0\1'+b'x'*16))
seeds['ip-fragment']=eth(GW,GM,0x800,ipv4(6,G,'192.0.2.1',tcp(G,'192.0.2.1',40000,8080),frag=0x2000))
seeds['ip-options']=eth(GW,GM,0x800,ipv4(6,G,'192.0.2.1',tcp(G,'192.0.2.1',40000,8080),ihl=6,opts=b'\x01\x01\x01\x00'))
seeds['ip-spoof']=eth(GW,GM,0x800,ipv4(6,'10.0.2.99','192.0.2.1',tcp('10.0.2.99','192.0.2.1',40000,8080)))
seeds['arp-request']=eth(BC,GM,0x806,struct.pack('!HHBBH',1,0x800,6,4,1)+GM+ip(G)+b'\0'*6+ip('10.0.2.2'))
seeds['arp-spoof']=eth(BC,GM,0x806,struct.pack('!HHBBH',1,0x800,6,4,2)+GM+ip('10.0.2.2')+b'\0'*6+ip(G))
seeds['vlan']=eth(GW,GM,0x8100,b'\x00\x05\x08\x00'+ipv4(6,G,'192.0.2.1',tcp(G,'192.0.2.1',40000,8080)))
seeds['ipv6-rs']=eth(bytes.fromhex('333300000002'),GM,0x86dd,bytes.fromhex('6000000000103aff')+b'\xfe\x80'+b'\0'*14+b'\xff\x02'+b'\0'*13+b'\x02'+b'\x85\0\0\0\0\0\0\0'+b'\0'*8)
seeds['runt']=GW+GM[:3]
here=os.path.dirname(os.path.abspath(__file__))
d=os.path.join(here,'..','fuzz','corpus','frame')
for k,v in seeds.items(): open(os.path.join(d,k),'wb').write(v)
dd=os.path.join(here,'..','fuzz','corpus','dns')
ds={'a-query':dnsq('www.example.com'),'allowed':dnsq('allowed.example',7),
 'compression':struct.pack('!HHHHHH',1,0x100,1,0,0,0)+b'\x03www\xc0\x0c'+struct.pack('!HH',1,1),
 'long-name':dnsq('.'.join(['a'*63]*3+['b'*61])),
 'edns':struct.pack('!HHHHHH',2,0x100,1,0,0,1)+b'\x03abc\x00\x00\x01\x00\x01'+b'\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x00',
 'response':struct.pack('!HHHHHH',1,0x8180,1,1,0,0)+b'\x01a\x00\x00\x01\x00\x01',
 'empty':b'', 'header-only':struct.pack('!HHHHHH',1,0x100,1,0,0,0)}
for k,v in ds.items(): open(os.path.join(dd,k),'wb').write(v)
