# tests/cli/test_cli.sh: the ctxscale binary's top level: help, version, unknown commands,
# write errors on stdout. Run by `make test` (tests/run.sh).
. "$CS_SRC/tests/cli/lib.sh"

expect_exit 0 "$CTXSCALE" --help
expect_out "Commands:"
expect_out "version"
expect_exit 0 "$CTXSCALE" --version
expect_out "^ctxscale [0-9]*\.[0-9]*\.[0-9]* (git "
expect_exit 2 "$CTXSCALE"
expect_err "Usage:"
expect_exit 2 "$CTXSCALE" frobnicate
expect_err "unknown command 'frobnicate'"
# Every subcommand listed in --help answers --help with exit 0 on stdout.
"$CTXSCALE" --help | awk '/^Commands:/{f=1;next} f && /^  [a-z]/{print $1} /^$/{if(f)exit}' > "$T/cmds"
[ -s "$T/cmds" ] || fail "no commands listed"
while read -r c; do
    expect_exit 0 "$CTXSCALE" "$c" --help
done < "$T/cmds"
# A write error on stdout is reported with exit 1.
if [ -w /dev/full ]; then
    "$CTXSCALE" --help > /dev/full 2>"$ERR"
    [ $? -eq 1 ] || fail "write error on stdout not reported"
    expect_err "error writing"
fi
echo ok
