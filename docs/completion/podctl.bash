# bash completion for podctl(1): commands, each command's options (read
# from `podctl COMMAND --help`, so they never drift from the parser),
# pod names from `podctl ls`, process names (POD/PROC) from `podctl ps
# POD`, session ids and names from `podctl sessions`, and `sessions
# prune`.
# Installed into bash-completion's completionsdir; to try it without
# installing: source docs/completion/podctl.bash

# Column N (1: the first) of a podctl listing, its header line skipped
# ("no pods" is one line, so it gives nothing).
_podctl_column()
{
	local n=$1
	shift
	"${COMP_WORDS[0]}" "$@" 2>/dev/null | awk -v n="$n" 'NR > 1 { print $n }' |
		sort -u
}

# The option lines of a command's help: the "options:" block only (a
# parent's help also lists its subcommand's, under "options of ...").
_podctl_option_lines()
{
	"${COMP_WORDS[0]}" "$@" --help 2>/dev/null |
		awk '/^options:/ { on = 1; next } /^[^ ]/ { on = 0 } on'
}

# The long and short options of a command (words: "stop", "sessions
# prune").
_podctl_options()
{
	_podctl_option_lines "$@" | grep -oE -- '^ +(-[a-zA-Z], )?--[a-z-]+' |
		tr -d ',' | tr ' ' '\n' | grep -- '^-'
}

# The options that take a value: those followed by a metavar.
_podctl_valued()
{
	_podctl_option_lines "$@" | grep -oE -- '^ +(-[a-zA-Z], )?--[a-z-]+ [A-Z]' |
		sed 's/ [A-Z]$//' | tr -d ',' | tr ' ' '\n' | grep -- '^-'
}

# A target: POD/PROC once a slash is typed (the pod's processes, from
# its ps table); before it, pods, as "web/" when only a process will do
# (start, restart: no space after it, the PROC comes next).
_podctl_targets()
{
	local form=$1 cur=$2 pod
	if [[ $cur == */* ]]; then
		pod=${cur%%/*}
		mapfile -t COMPREPLY < <(compgen -P "$pod/" \
			-W "$(_podctl_column 1 ps "$pod")" -- "${cur#*/}")
	elif [ "$form" = proc ]; then
		mapfile -t COMPREPLY < <(compgen -S / -W "$(_podctl_column 1 ls)" -- "$cur")
		compopt -o nospace 2>/dev/null
	else
		mapfile -t COMPREPLY < <(compgen -W "$(_podctl_column 1 ls)" -- "$cur")
	fi
}

_podctl_commands()
{
	"${COMP_WORDS[0]}" help 2>/dev/null | sed -n 's/^  \([a-z]\+\) .*/\1/p'
}

_podctl()
{
	local cur prev cmd i w valued nth=0
	local -a words
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
			mapfile -t COMPREPLY < <(compgen -W "$(_podctl_commands)" -- "$cur")
		fi
		return 0
	fi
	words=("$cmd")
	if [ "$cmd" = sessions ] && [ "${COMP_WORDS[i + 1]}" = prune ] &&
		((i + 1 < COMP_CWORD)); then
		words=(sessions prune)
		((i++))
	fi

	# An option's value (not logs': its -n is a count, its -f a flag).
	[ "$cmd" = logs ] || case $prev in
	--cwd | -C)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return 0 ;;
	--overlay-file | -f | --manifest | -m | --pod-command)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0 ;;
	--name | -n | --last | -l)
		# a pod's name: of the pods there are, or of the sessions
		if [ "$cmd" = spawn ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_podctl_column 1 ls)" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_podctl_column 2 sessions)" -- "$cur")
		fi
		return 0 ;;
	--session | -s)
		mapfile -t COMPREPLY < <(compgen -W "$(_podctl_column 1 sessions)" -- "$cur")
		return 0 ;;
	esac
	valued=" $(_podctl_valued "${words[@]}" | tr '\n' ' ') "
	[[ $valued == *" $prev "* ]] && return 0 # a value of no known kind

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_podctl_options "${words[@]}")" -- "$cur")
		return 0
	fi

	# Which operand this is: the words after the command that are
	# neither options nor their values.
	for ((i = i + 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == -* ]]; then
			[[ $valued == *" $w "* ]] && ((i++))
		else
			((nth++))
		fi
	done
	case $cmd in
	stop)
		_podctl_targets any "$cur" ;;
	start | restart)
		_podctl_targets proc "$cur" ;;
	ps)
		((nth == 0)) &&
			mapfile -t COMPREPLY < <(compgen -W "$(_podctl_column 1 ls)" -- "$cur") ;;
	logs | events)
		((nth == 0)) && _podctl_targets any "$cur" ;;
	status)
		((nth == 0)) &&
			mapfile -t COMPREPLY < <(compgen -W "$(_podctl_column 1 ls)" -- "$cur") ;;
	call)
		if ((nth == 0)); then
			mapfile -t COMPREPLY < <(compgen -W "$(_podctl_column 1 ls)" -- "$cur")
		elif ((nth == 1)); then
			mapfile -t COMPREPLY < <(compgen -W "hello ping status shutdown" -- "$cur")
		fi ;;
	resume)
		((nth == 0)) &&
			mapfile -t COMPREPLY < <(compgen -W "$(_podctl_column 1 sessions)" -- "$cur") ;;
	sessions)
		((nth == 0 && ${#words[@]} == 1)) &&
			mapfile -t COMPREPLY < <(compgen -W "prune" -- "$cur") ;;
	help)
		if ((nth == 0)); then
			mapfile -t COMPREPLY < <(compgen -W "$(_podctl_commands)" -- "$cur")
		elif ((nth == 1)) && [ "${COMP_WORDS[COMP_CWORD - 1]}" = sessions ]; then
			mapfile -t COMPREPLY < <(compgen -W "prune" -- "$cur")
		fi ;;
	esac
	return 0
}
complete -F _podctl podctl
