// Command release builds dockgate's release artifacts for the edge boxes:
// for each target (linux/amd64, linux/arm64, linux/armv7 with GOARM=7) a
// static binary tarball and a Debian package, written to one directory.
//
//	go run ./internal/release                      # every target into dist/
//	go run ./internal/release -out /tmp/rel -arch amd64
//	go run ./internal/release -version 1.4.0
//
// Run it from anywhere inside the module; it needs the go command and,
// for the default version, git. Binaries are built with CGO_ENABLED=0,
// -trimpath and -ldflags "-s -w -X main.version=… -X main.commit=…".
//
// Per target it writes:
//
//	dockgate_<version>_linux_<arch>.tar.gz   a directory dockgate_<version>_linux_<arch>/
//	                                         holding the binary, README.md, the
//	                                         packaged configuration (dockgate.yaml),
//	                                         testdata's dockgate.example.yaml, the
//	                                         systemd unit, copyright (ours and every
//	                                         linked Go module's licence) and LICENSE
//	                                         when the tree has one
//	dockgate_<debversion>_<debarch>.deb      built in Go with nfpm (no dpkg needed)
//
// The .deb (architectures amd64, arm64, armhf) installs /usr/bin/dockgate,
// /etc/dockgate/dockgate.yaml as a conffile (one receiving door on simulated
// hardware, the embedded broker, data in /var/lib/dockgate: it passes
// `dockgate check-config` as installed), the hardened unit
// /lib/systemd/system/dockgate.service (DynamicUser, StateDirectory=dockgate,
// dialout for serial devices), and /usr/share/doc/dockgate/{copyright,
// changelog.Debian.gz,README.md,examples/}. Its maintainer scripts only
// reload systemd, stop the service on removal and restart a running one on
// upgrade: installing does not start the gateway, `systemctl enable --now
// dockgate` does. A purge keeps the data in /var/lib/dockgate.
// .ci/boot-check installs and runs the amd64 .deb on a booted systemd
// (systemd-nspawn of the machine's own root); .ci/run calls it.
//
// The packaging files live in packaging/ and are embedded; the top-level
// Dockerfile copies the same packaging/dockgate.yaml. The version defaults
// to `git describe --tags --always --dirty` ("dev" without git); the Debian
// version is derived from it so that it sorts (v1.2.3-4-gabc becomes
// 1.2.3+git4.gabc, an untagged tree 0.0.0~<describe>).
package main
