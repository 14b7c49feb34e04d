# The parts of OpenSSL that mcp-auth never reaches, left out of its cross builds of OpenSSL
# (packaging/build-windows.sh, packaging/check-platforms.sh's macOS link): its TLS client
# speaks TLS 1.2 and 1.3 with the modern suites, and its own libcrypto calls are SHA-256,
# randomness, EC and RSA keys, PEM and X.509. Leaving out old ciphers, DTLS, CMS, CMP,
# engines and the rest roughly halves the build. Sourced (bash):
#
#   . "$here/packaging/lib/openssl-features.sh"
#   ./Configure TARGET "${openssl_unused[@]}" ...
openssl_unused=(no-shared no-module no-tests no-engine no-dso no-legacy no-comp no-ssl3
  no-dtls no-dgram no-sctp no-srtp no-srp no-ct no-cms no-cmp no-ts no-ocsp no-gost no-idea
  no-rc2 no-rc4 no-md4 no-mdc2 no-whirlpool no-rmd160 no-seed no-camellia no-aria no-sm2
  no-sm3 no-sm4 no-bf no-cast no-des no-dsa no-ec2m no-siphash no-scrypt no-blake2 no-ocb
  no-siv no-rfc3779 no-nextprotoneg no-ui-console)
