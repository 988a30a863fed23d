#!/bin/sh
# Local stand-in for https://get.docker.com, written for this project's tests; not Docker's script.
#
# It implements, from the documented interface (shared notes, platform-facts.md), what
# Docker's convenience script does on Debian and Ubuntu, so that the docker_engine role's
# `script` install method can be tested where get.docker.com cannot be reached:
#
#   env   VERSION (leading v stripped), CHANNEL (stable|test), DOWNLOAD_URL, REPO_FILE,
#         DRY_RUN, REPO_ONLY=1, NO_AUTOSTART=1
#   flags --version V, --channel C, --mirror Aliyun|AzureChinaCloud, --dry-run,
#         --setup-repo, --no-autostart; any other --flag prints "Illegal option" and carries on
#
# The flaws of the real script are reproduced on purpose, because the role must defend
# against them:
#   - VERSION becomes a regex grepped over whole `apt-cache madison` lines, URL included: with
#     DOWNLOAD_URL=http://127.0.0.1:8080, VERSION=27.0 matches "127.0.0.1" on every line, so
#     the newest release is installed and the script still exits 0.
#   - --setup-repo also swallows the argument that follows it.
#   - DRY_RUN ignores VERSION, and still waits when docker is already there.
#   - Asking for an older version than the installed one fails (no --allow-downgrades).
#
# Differences from the real script:
#   - The "docker already exists" and end-of-life waits last STANDIN_SLEEP seconds
#     (default 2) instead of 20 and 10, to keep tests quick.
#   - Only the apt path (debian, raspbian, ubuntu) is implemented; every other distribution
#     exits 1 with a message that says so.
#   - REPO_FILE only names the yum/dnf repo file in the real script; here it is accepted
#     and, like there, has no effect on apt hosts (the list is always docker.list).
set -e

VERSION="${VERSION#v}"
CHANNEL="${CHANNEL:-stable}"
DOWNLOAD_URL="${DOWNLOAD_URL:-https://download.docker.com}"
REPO_FILE="${REPO_FILE:-docker-ce.repo}"
DRY_RUN="${DRY_RUN:-}"
REPO_ONLY="${REPO_ONLY:-0}"
NO_AUTOSTART="${NO_AUTOSTART:-0}"
standin_sleep="${STANDIN_SLEEP:-2}"
mirror=""

while [ $# -gt 0 ]; do
	case "$1" in
		--channel)
			CHANNEL="$2"
			shift
			;;
		--dry-run)
			DRY_RUN=1
			;;
		--mirror)
			mirror="$2"
			shift
			;;
		--version)
			VERSION="${2#v}"
			shift
			;;
		--no-autostart)
			NO_AUTOSTART=1
			;;
		--setup-repo)
			# The real script shifts here as well as below: the next argument is lost.
			REPO_ONLY=1
			shift
			;;
		--*)
			echo "Illegal option $1"
			;;
	esac
	shift $(( $# > 0 ? 1 : 0 ))
done

case "$mirror" in
	"") ;;
	Aliyun) DOWNLOAD_URL="https://mirrors.aliyun.com/docker-ce" ;;
	AzureChinaCloud) DOWNLOAD_URL="https://mirror.azure.cn/docker-ce" ;;
	*)
		echo "unknown mirror '$mirror': use either 'Aliyun', or 'AzureChinaCloud'." >&2
		exit 1
		;;
esac

case "$CHANNEL" in
	stable | test) ;;
	*)
		echo "unknown CHANNEL '$CHANNEL': use either stable or test." >&2
		exit 1
		;;
esac

have() {
	command -v "$1" >/dev/null 2>&1
}

dry_run() {
	[ -n "$DRY_RUN" ]
}

wait_a_little() {
	( set -x; sleep "$standin_sleep" )
}

# True when VERSION is empty (meaning "latest") or at least the given YY.MM release.
wanted_at_least() {
	[ -z "$VERSION" ] && return 0
	want_major=$(echo "$VERSION" | cut -d. -f1)
	want_minor=$(echo "$VERSION" | cut -d. -f2)
	floor_major=$(echo "$1" | cut -d. -f1)
	floor_minor=$(echo "$1" | cut -d. -f2)
	[ "$want_major" -gt "$floor_major" ] && return 0
	[ "$want_major" -lt "$floor_major" ] && return 1
	[ "${want_minor#0}" -ge "${floor_minor#0}" ]
}

distribution() {
	if [ -r /etc/os-release ]; then
		# A subshell: os-release defines VERSION too, which must not replace ours.
		# shellcheck source=/dev/null
		(. /etc/os-release && echo "$ID") | tr '[:upper:]' '[:lower:]'
	fi
}

debian_codename() {
	major=$(sed -e 's,/.*,,' -e 's,\..*,,' /etc/debian_version)
	case "$major" in
		13) echo trixie ;;
		12) echo bookworm ;;
		11) echo bullseye ;;
		10) echo buster ;;
		9) echo stretch ;;
		*) echo "$major" ;;
	esac
}

ubuntu_codename() {
	codename=""
	if have lsb_release; then
		codename=$(lsb_release --codename | cut -f2)
	fi
	if [ -z "$codename" ] && [ -r /etc/lsb-release ]; then
		# shellcheck source=/dev/null
		codename=$(. /etc/lsb-release && echo "$DISTRIB_CODENAME")
	fi
	echo "$codename"
}

end_of_life_notice() {
	echo
	echo "DEPRECATION WARNING"
	echo "    $1 $2 reached end-of-life and is no longer supported by this script."
	echo
	wait_a_little
}

report() {
	dry_run && return 0
	if have docker && [ -e /var/run/docker.sock ]; then
		( set -x; $sh_c 'docker version' ) || true
	fi
	echo
	echo "Docker is installed (gpuhost stand-in for get.docker.com)."
	echo "Rootless mode: dockerd-rootless-setuptool.sh install"
	echo "Access to the Docker daemon is equivalent to root access on this host."
	echo
}

set_up_apt_repo() {
	pre_reqs="ca-certificates curl"
	arch=$(dpkg --print-architecture)
	apt_repo="deb [arch=$arch signed-by=/etc/apt/keyrings/docker.asc] $DOWNLOAD_URL/linux/$dist $codename $CHANNEL"
	(
		dry_run || set -x
		$sh_c 'apt-get -qq update >/dev/null'
		$sh_c "DEBIAN_FRONTEND=noninteractive apt-get -y -qq install $pre_reqs >/dev/null"
		$sh_c 'install -m 0755 -d /etc/apt/keyrings'
		$sh_c "curl -fsSL \"$DOWNLOAD_URL/linux/$dist/gpg\" -o /etc/apt/keyrings/docker.asc"
		$sh_c 'chmod a+r /etc/apt/keyrings/docker.asc'
		$sh_c "echo \"$apt_repo\" > /etc/apt/sources.list.d/docker.list"
		$sh_c 'apt-get -qq update >/dev/null'
	)
}

# Prints the first `apt-cache madison` version of a package whose WHOLE line matches the
# pattern: a regex over the line, mirror URL included (the real script's behaviour).
madison_pick() {
	search="apt-cache madison $1 | grep '$pkg_pattern' | head -1 | awk '{\$1=\$1};1' | cut -d' ' -f 3"
	echo "INFO: $search" >&2
	$sh_c "$search"
}

install_apt_packages() {
	pin=""
	cli_pin=""
	if [ -n "$VERSION" ]; then
		if dry_run; then
			echo "# WARNING: VERSION pinning is not supported in DRY_RUN"
		else
			pkg_pattern=$(echo "$VERSION" | sed 's/-ce-/~ce~.*/g' | sed 's/-/.*/g')
			echo "INFO: Searching repository for VERSION '$VERSION'"
			found=$(madison_pick docker-ce)
			if [ -z "$found" ]; then
				echo
				echo "ERROR: '$VERSION' not found amongst apt-cache madison results"
				echo
				exit 1
			fi
			pin="=$found"
			cli_found=$(madison_pick docker-ce-cli)
			if [ -n "$cli_found" ]; then
				cli_pin="=$cli_found"
			fi
		fi
	fi
	pkgs="docker-ce$pin docker-ce-cli$cli_pin containerd.io docker-compose-plugin"
	pkgs="$pkgs docker-ce-rootless-extras$pin docker-buildx-plugin"
	if wanted_at_least 28.2; then
		pkgs="$pkgs docker-model-plugin"
	fi
	(
		dry_run || set -x
		$sh_c "DEBIAN_FRONTEND=noninteractive apt-get -y -qq install $pkgs >/dev/null"
	)
}

start_docker() {
	if [ "$NO_AUTOSTART" = "1" ]; then
		return 0
	fi
	if have systemctl && [ -d /run/systemd/system ]; then
		(
			dry_run || set -x
			$sh_c 'systemctl enable --now docker.service'
		)
	elif have service; then
		(
			dry_run || set -x
			$sh_c 'service docker start'
		)
	fi
}

main() {
	echo "# Executing the gpuhost stand-in for the docker install script"

	if have docker; then
		cat >&2 <<-'EOF'
		Warning: the "docker" command appears to already exist on this system.

		If you already have Docker installed, this script can cause trouble, which is
		why we're displaying this warning and provide the opportunity to cancel the
		installation.

		(gpuhost stand-in: waiting STANDIN_SLEEP seconds; the real script waits 20.)
		EOF
		wait_a_little
	fi

	sh_c='sh -c'
	if [ "$(id -un 2>/dev/null || true)" != root ]; then
		if have sudo; then
			sh_c='sudo -E sh -c'
		elif have su; then
			sh_c='su -c'
		else
			echo 'Error: this installer needs the ability to run commands as root.' >&2
			exit 1
		fi
	fi
	if dry_run; then
		sh_c="echo"
	fi

	dist=$(distribution)
	case "$dist" in
		debian | raspbian) codename=$(debian_codename) ;;
		ubuntu) codename=$(ubuntu_codename) ;;
		centos | fedora | rhel | rocky | sles)
			echo "ERROR: the gpuhost stand-in only implements the apt path, not '$dist'." >&2
			exit 1
			;;
		*)
			echo "ERROR: Unsupported distribution '$dist'" >&2
			exit 1
			;;
	esac

	case "$dist.$codename" in
		debian.buster | debian.stretch | raspbian.buster | raspbian.stretch | ubuntu.focal | ubuntu.bionic)
			end_of_life_notice "$dist" "$codename"
			;;
	esac

	set_up_apt_repo
	if [ "$REPO_ONLY" = "1" ]; then
		echo "Repository has been set up. You can now install Docker with apt-get."
		exit 0
	fi
	install_apt_packages
	start_docker
	report
	exit 0
}

main
