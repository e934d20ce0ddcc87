# Warnings as errors for our own targets (third-party headers are SYSTEM).
function(vigil_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Werror)
endfunction()
