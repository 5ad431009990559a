#!/usr/bin/perl
# Writes a small MaxMind-format country database for the tests: each argument is NETWORK=CC (an IPv4 or
# IPv6 network in CIDR notation and an ISO 3166-1 alpha-2 code). Usage: make-mmdb.pl OUT.mmdb NET=CC...
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($out, @nets) = @ARGV;
die "usage: make-mmdb.pl OUT.mmdb NETWORK=CC...\n" unless $out && @nets;
my %types = (country => 'map', iso_code => 'utf8_string');
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 24,
    database_type            => 'hop-test-Country',
    languages                => ['en'],
    description              => { en => 'hop test countries' },
    map_key_type_callback    => sub { $types{ $_[0] } },
    # loopback and private networks are what tests connect from
    remove_reserved_networks => 0,
);
for my $n (@nets) {
    my ($net, $cc) = split /=/, $n, 2;
    $tree->insert_network($net, { country => { iso_code => $cc } });
}
open my $fh, '>:raw', $out or die "make-mmdb.pl: $out: $!\n";
$tree->write_tree($fh);
close $fh or die "make-mmdb.pl: $out: $!\n";
