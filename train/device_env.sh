# Sourced by train/device_train.sh and train/device_pair.sh on a leased GPU machine: installs the
# carried OpenMMLab wheels and this project offline into a target folder and puts it on PYTHONPATH.
# Sets: bundle, deps, out, python. Exits 2, naming the fix, where no bundle was carried.
bundle=${SKYSEG_DEVICE_BUNDLE:-.device}
deps=${SKYSEG_DEVICE_DEPS:-/tmp/skyseg-deps}
out=${OUT:-out/device}
python=${PYTHON:-python3}
test -d "$bundle/wheels" || { echo "no $bundle/wheels: run \`skyseg device-bundle\` here and carry $bundle" >&2; exit 2; }
"$python" -m pip install -q --disable-pip-version-check --no-deps --no-index --no-build-isolation \
    --target "$deps" --upgrade "$bundle"/wheels/*.whl . ./client
export PYTHONPATH="$deps${PYTHONPATH:+:$PYTHONPATH}"
