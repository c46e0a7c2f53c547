# bash completion for podctl(1): commands, each command's options (read
# from `podctl help COMMAND`, so they never drift from the parser), pod
# names from `podctl ls` and session ids from `podctl sessions`.
# Installed into bash-completion's completionsdir; to try it without
# installing: source docs/completion/podctl.bash

# The first column of a podctl listing, its header line skipped ("no
# pods" is one line, so it gives nothing).
_podctl_column()
{
	"${COMP_WORDS[0]}" "$@" 2>/dev/null | awk 'NR > 1 { print $1 }'
}

# The long and short options of one command.
_podctl_options()
{
	"${COMP_WORDS[0]}" help "$1" 2>/dev/null |
		grep -oE -- '(^|[ [|])--?[a-zA-Z][a-zA-Z-]*' |
		sed 's/^[ [|]//' | sort -u
}

_podctl()
{
	local cur prev cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	# The command is the first word after podctl that is not an option.
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "--help --version -V" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$("${COMP_WORDS[0]}" help 2>/dev/null |
				sed -n 's/^  \([a-z]\+\) .*/\1/p')" -- "$cur")
		fi
		return 0
	fi

	# An option's value.
	case $prev in
	--cwd | -C)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return 0 ;;
	--overlay-file | -f | --manifest | -m | --pod-command)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0 ;;
	--name | -n)
		mapfile -t COMPREPLY < <(compgen -W "$(_podctl_column ls)" -- "$cur")
		return 0 ;;
	--session | -s)
		mapfile -t COMPREPLY < <(compgen -W "$(_podctl_column sessions)" -- "$cur")
		return 0 ;;
	--overlay | -o | --timeout | -t | --grace | -g)
		return 0 ;;
	esac

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_podctl_options "$cmd")" -- "$cur")
		return 0
	fi
	case $cmd in
	status | stop)
		mapfile -t COMPREPLY < <(compgen -W "$(_podctl_column ls)" -- "$cur") ;;
	resume)
		mapfile -t COMPREPLY < <(compgen -W "$(_podctl_column sessions)" -- "$cur") ;;
	help)
		mapfile -t COMPREPLY < <(compgen -W "$("${COMP_WORDS[0]}" help 2>/dev/null |
			sed -n 's/^  \([a-z]\+\) .*/\1/p')" -- "$cur") ;;
	esac
	return 0
}
complete -F _podctl podctl
